-- The desk and the incident list ask for one state in a subtree ("open incidents here"):
-- answered from this index without reading the subtree's other incidents.
CREATE INDEX incidents_status_scope ON incidents (status, jurisdiction_path, id);
