-- A plan's revision duty per period (`[review] every`) and the representatives of a gathering
-- are rows of `records` (0025); SQLite's kinds are not constrained, so nothing changes here.
-- The migration keeps the two backends' numbering the same.
SELECT 1;
