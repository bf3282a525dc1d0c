//! The OpenAPI document has a schema for every request and response body: each is a `$ref` to a
//! component or a concrete typed schema (never a bare `{"type":"object"}`), every `$ref`
//! resolves, every error answer is the `ErrorBody` envelope, and the answers of the incident,
//! task, case, dispute, report, notify and plan operations — each exercised once against the
//! demo — validate against the schemas the document names for them.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body};
use crate::on_both;

/// Operations whose bodies are not typed yet: the sign-in, account, grant, audit and directory
/// operations, which the trust branch types (it moves them into the application with typed
/// answers). Remove an operation from here when it is typed; a new untyped operation fails the
/// test.
const NOT_YET_TYPED: &[&str] = &[];

/// The tags whose operations are each exercised once below, and their answers validated.
const EXERCISED_TAGS: &[&str] = &[
    "incidents",
    "tasks",
    "cases",
    "disputes",
    "reports",
    "notify",
    "plans",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

// ---------------------------------------------------------------------------------------------
// Walking the document

/// The component a `$ref` names, if it resolves.
fn resolve<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    let name = r.strip_prefix("#/components/schemas/")?;
    doc["components"]["schemas"].get(name)
}

/// Every `$ref` in a JSON value.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Whether a body schema says what the body is: a `$ref` to a typed component, an object with
/// properties, a map or array of typed values, a scalar, or a composition of those. A bare
/// `{"type":"object"}` (or `{}`) says nothing.
fn is_typed(doc: &Value, s: &Value, depth: usize) -> bool {
    if depth > 32 {
        return true; // a recursive type: typed where it started
    }
    if let Some(r) = s["$ref"].as_str() {
        return resolve(doc, r).is_some_and(|c| is_typed(doc, c, depth + 1));
    }
    for k in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = s[k].as_array() {
            return !parts.is_empty()
                && parts
                    .iter()
                    .all(|p| p["type"] == "null" || is_typed(doc, p, depth + 1));
        }
    }
    if s["properties"].as_object().is_some_and(|p| !p.is_empty()) || s["enum"].is_array() {
        return true;
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["object"] => {
            s["additionalProperties"].is_object()
                && is_typed(doc, &s["additionalProperties"], depth + 1)
        }
        ["array"] => {
            s["items"].is_object() && is_typed(doc, &s["items"], depth + 1)
                || s["prefixItems"].is_array()
        }
        [] => false,
        _ => true, // string, integer, number, boolean
    }
}

/// Each operation: (operation id, tag, method, path, the operation).
fn operations(doc: &Value) -> Vec<(String, String, String, String, Value)> {
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                out.push((
                    op["operationId"]
                        .as_str()
                        .expect("an operation id")
                        .to_string(),
                    op["tags"][0].as_str().unwrap_or_default().to_string(),
                    m.to_string(),
                    path.clone(),
                    op.clone(),
                ));
            }
        }
    }
    out
}

/// Every schema an operation gives its bodies: (where, schema).
fn body_schemas(op: &Value) -> Vec<(String, Value)> {
    let mut out = vec![];
    if let Some(content) = op["requestBody"]["content"].as_object() {
        for (media, c) in content {
            out.push((format!("request {media}"), c["schema"].clone()));
        }
    }
    for (status, r) in op["responses"].as_object().expect("responses") {
        if let Some(content) = r["content"].as_object() {
            for (media, c) in content {
                out.push((format!("{status} {media}"), c["schema"].clone()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Validating a value against a schema (the subset utoipa emits)

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

fn format_matches(f: &str, s: &str) -> bool {
    match f {
        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
        "date-time" => s.parse::<jiff::Timestamp>().is_ok(),
        "date" => s.parse::<jiff::civil::Date>().is_ok(),
        _ => true,
    }
}

/// Appends to `errs` every way `v` (at `at`) breaks `schema`.
fn validate(doc: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let s = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            errs.push(format!("{at}: nothing is allowed here, found {v}"));
            return;
        }
        Value::Object(_) => schema,
        other => {
            errs.push(format!("{at}: not a schema: {other}"));
            return;
        }
    };
    if let Some(r) = s["$ref"].as_str() {
        match resolve(doc, r) {
            Some(c) => validate(doc, c, v, at, errs),
            None => errs.push(format!("{at}: {r} does not resolve")),
        }
    }
    if s["nullable"] == true && v.is_null() {
        return;
    }
    if let Some(parts) = s["allOf"].as_array() {
        for p in parts {
            validate(doc, p, v, at, errs);
        }
    }
    for (k, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(parts) = s[k].as_array() {
            let mut failures = vec![];
            let passing = parts
                .iter()
                .filter(|p| {
                    let mut e = vec![];
                    validate(doc, p, v, at, &mut e);
                    let ok = e.is_empty();
                    failures.extend(e);
                    ok
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                errs.push(format!(
                    "{at}: {passing} of the {k} alternatives match {v}: {failures:?}"
                ));
            }
        }
    }
    if let Some(e) = s["enum"].as_array()
        && !e.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {e:?}"));
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.iter().any(|t| type_matches(t, v)) {
        errs.push(format!("{at}: {v} is not of type {types:?}"));
        return;
    }
    if let (Some(f), Some(x)) = (s["format"].as_str(), v.as_str())
        && !format_matches(f, x)
    {
        errs.push(format!("{at}: {x:?} is not a {f}"));
    }
    if let (Some(min), Some(x)) = (s["minimum"].as_f64(), v.as_f64())
        && x < min
    {
        errs.push(format!("{at}: {x} is below the minimum {min}"));
    }
    if let Some(obj) = v.as_object() {
        let props = s["properties"].as_object();
        for r in s["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap_or_default();
            if !obj.contains_key(r) {
                errs.push(format!("{at}: `{r}` is required"));
            }
        }
        for (k, x) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(p) => validate(doc, p, x, &format!("{at}.{k}"), errs),
                None => match &s["additionalProperties"] {
                    Value::Bool(false) => errs.push(format!("{at}: `{k}` is not allowed")),
                    a @ Value::Object(_) => validate(doc, a, x, &format!("{at}.{k}"), errs),
                    _ => {}
                },
            }
        }
    }
    if let Some(items) = v.as_array() {
        let prefix = s["prefixItems"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (i, x) in items.iter().enumerate() {
            let here = format!("{at}[{i}]");
            match prefix.get(i) {
                Some(p) => validate(doc, p, x, &here, errs),
                None if !s["items"].is_null() => validate(doc, &s["items"], x, &here, errs),
                None => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calling the API and checking each answer against the document

/// Sends requests, validates each answer against the schema the document gives its operation
/// and status, and records which operations answered with success.
struct Probe<'a> {
    app: &'a TestApp,
    doc: Value,
    succeeded: BTreeSet<String>,
}

impl<'a> Probe<'a> {
    async fn new(app: &'a TestApp) -> Probe<'a> {
        let (s, doc, _) = app
            .send(Method::GET, "/api/v1/openapi.json", None, None, &[])
            .await;
        assert_eq!(s, StatusCode::OK);
        Probe {
            app,
            doc,
            succeeded: BTreeSet::new(),
        }
    }

    /// Calls `path` (an instance of the document's `template`) and checks the answer: its
    /// status must be documented for the operation and its body must match the status's schema.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let m = method.as_str().to_ascii_lowercase();
        let op = self.doc["paths"][template][&m].clone();
        assert!(op.is_object(), "{m} {template} is not in the document");
        let mut hs: Vec<(&str, &str)> = headers.to_vec();
        let body = body.map(|b| {
            hs.push(("content-type", "application/json"));
            Body::from(b.to_string())
        });
        let (status, v, h) = self.app.send(method, path, token, body, &hs).await;
        let id = op["operationId"].as_str().unwrap().to_string();
        let response = &op["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{id}: {status} is not documented ({v})"
        );
        match response["content"]["application/json"]["schema"].clone() {
            Value::Null => assert!(
                v.is_null(),
                "{id}: {status} is documented without a body: {v}"
            ),
            schema => {
                let ct = h
                    .get("content-type")
                    .and_then(|c| c.to_str().ok())
                    .unwrap_or_default();
                assert!(
                    ct.starts_with("application/json"),
                    "{id}: {status} answered {ct}"
                );
                let mut errs = vec![];
                validate(&self.doc, &schema, &v, "$", &mut errs);
                assert!(
                    errs.is_empty(),
                    "{id}: the {status} answer does not match its schema:\n{}\n{v:#}",
                    errs.join("\n")
                );
            }
        }
        if status.is_success() {
            self.succeeded.insert(id);
        }
        (status, v)
    }

    /// A call that must succeed; answers the body.
    async fn ok(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (s, v) = self
            .call(method.clone(), template, path, Some(token), body, &[])
            .await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    async fn get(&mut self, template: &str, path: &str, token: &str) -> Value {
        self.ok(Method::GET, template, path, token, None).await
    }

    async fn post(&mut self, template: &str, path: &str, token: &str, body: Value) -> Value {
        self.ok(Method::POST, template, path, token, Some(body))
            .await
    }

    async fn put(&mut self, template: &str, path: &str, token: &str, body: Value) -> Value {
        self.ok(Method::PUT, template, path, token, Some(body))
            .await
    }
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id: {v}"))
        .to_string()
}

/// A village under 青石镇 whose secretary owes the township plan's daily report and may submit
/// it (set up through the directory and grant operations, which are not checked here). Answers
/// the secretary's token.
async fn village_secretary(app: &TestApp) -> String {
    let town = app.jurisdiction("青石镇").await;
    let admin = "demo-province-admin";
    let (s, j) = app
        .post(
            "/api/v1/jurisdictions",
            admin,
            json!({"parent_id": town, "name": "测试戊村", "kind": "village"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let token = "test-village-secretary-openapi";
    let (s, p) = app
        .post(
            "/api/v1/people",
            admin,
            json!({"jurisdiction_id": j["id"], "name": "村书记戊", "token": token}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, h) = app
        .post(
            &format!("/api/v1/jurisdictions/{}/holders", id(&j)),
            admin,
            json!({"post_id": "village-secretaries", "person_id": p["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    let (s, g) = app
        .post(
            &format!("/api/v1/people/{}/grants/add", id(&p)),
            admin,
            json!({"role": "group_member", "jurisdiction_id": j["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{g}");
    token.to_string()
}

on_both! {
    every_body_has_a_typed_schema_and_every_ref_resolves => |app: TestApp| async move {
        let probe = Probe::new(&app).await;
        let doc = &probe.doc;
        let mut all = vec![];
        refs(doc, &mut all);
        assert!(!all.is_empty());
        for r in &all {
            assert!(resolve(doc, r).is_some(), "{r} does not resolve");
        }
        let mut untyped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (id, _, m, path, op) in operations(doc) {
            for (place, schema) in body_schemas(&op) {
                if !is_typed(doc, &schema, 0) {
                    untyped.entry(id.clone()).or_default().push(format!("{m} {path} {place}: {schema}"));
                }
            }
            // Every error answer is the envelope, documented with its schema.
            if !NOT_YET_TYPED.contains(&id.as_str()) {
                for (status, r) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                            "{id}: the {status} answer is not the ErrorBody envelope"
                        );
                    }
                }
                for s in ["400", "401", "403", "404", "500"] {
                    assert!(op["responses"][s].is_object(), "{id}: {s} is not documented");
                }
            }
        }
        let untyped_ids: BTreeSet<&str> = untyped.keys().map(String::as_str).collect();
        let allowed: BTreeSet<&str> = NOT_YET_TYPED.iter().copied().collect();
        let new: Vec<String> = untyped.iter().filter(|(k, _)| !allowed.contains(k.as_str()))
            .flat_map(|(_, v)| v.clone()).collect();
        assert!(new.is_empty(), "bodies without a typed schema:\n{}", new.join("\n"));
        let typed_now: Vec<&&str> = allowed.difference(&untyped_ids).collect();
        assert!(typed_now.is_empty(), "typed now: remove {typed_now:?} from NOT_YET_TYPED");
        // The error codes are the closed list, all of them.
        let codes: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap()
            .iter().map(|c| c.as_str().unwrap()).collect();
        let all_codes: Vec<&str> = yingji_app::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, all_codes);
        // The action path parameters list the names the application accepts.
        let names = |path: &str, param: &str| -> Vec<String> {
            doc["paths"][path]["post"]["parameters"].as_array().unwrap().iter()
                .find(|p| p["name"] == param).unwrap()["schema"]["enum"].as_array()
                .unwrap_or_else(|| panic!("{path} {param} has no enum")).iter()
                .map(|v| v.as_str().unwrap().to_string()).collect()
        };
        let incident: Vec<&str> = yingji_app::incidents::ACTIONS.iter().copied().filter(|a| !a.starts_with("regrade")).collect();
        assert_eq!(names("/api/v1/incidents/{id}/{action}", "action"), incident);
        assert_eq!(names("/api/v1/incidents/{id}/regrade/{decision}", "decision"), yingji_app::incidents::REGRADE_DECISIONS);
        assert_eq!(names("/api/v1/tasks/{id}/{action}", "action"), yingji_app::incidents::TASK_ACTIONS);
        assert_eq!(names("/api/v1/cases/{id}/{action}", "action"), yingji_app::cases::ACTIONS);
        assert_eq!(names("/api/v1/disputes/{id}/{action}", "action"), yingji_app::disputes::ACTIONS);
        // The validator sees what it should: a wrong answer fails.
        let mut errs = vec![];
        validate(doc, &json!({"$ref": "#/components/schemas/ErrorBody"}), &json!({"error": {"code": "no_such_code", "message": 1}}), "$", &mut errs);
        assert_eq!(errs.len(), 2, "{errs:?}");
    };

    the_answers_match_their_schemas => |app: TestApp| async move {
        let mut p = Probe::new(&app).await;
        let county = app.jurisdiction("临溪市").await;
        let town = app.jurisdiction("青石镇").await;
        let village = app.jurisdiction("枫林村").await;
        const DUTY: &str = "demo-duty-officer";
        const COMMANDER: &str = "demo-commander";
        const MEMBER: &str = "demo-group-member";
        const CLERK: &str = "demo-petition-clerk";
        const ADMIN: &str = "demo-province-admin";
        const TOWN: &str = "demo-town-duty";

        // Plans.
        let src = yingji_server::demo::EXAMPLE_PLANS.iter().find(|(f, _)| *f == "linxiang-city.toml").unwrap().1;
        // Revised to be reviewed every quarter, so the revision schedule has a duty to answer.
        let quarterly = src.replace("[review]\nevery = \"as-required\"", "[review]\nevery = \"quarter\"");
        assert_ne!(quarterly, src);
        let revised = json!({"jurisdiction_id": county, "source": format!("{quarterly}\n# revised\n")});
        let (s, _) = p.call(Method::POST, "/api/v1/plans", "/api/v1/plans", Some(DUTY), Some(revised.clone()), &[]).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = p.call(Method::POST, "/api/v1/plans", "/api/v1/plans", Some(DUTY), Some(revised), &[]).await;
        assert_eq!(s, StatusCode::OK);
        p.get("/api/v1/plans", "/api/v1/plans", DUTY).await;
        let revisions = p.get("/api/v1/plan-revisions/schedule", "/api/v1/plan-revisions/schedule", DUTY).await;
        assert_eq!(revisions[0]["status"], "done", "{revisions}");
        let plan = p.get("/api/v1/plans/{plan_id}", "/api/v1/plans/linxiang-city-mass-petition", DUTY).await;
        let v = plan["version"].as_i64().unwrap();
        p.get("/api/v1/plans/{plan_id}/versions/{version}", &format!("/api/v1/plans/linxiang-city-mass-petition/versions/{v}"), DUTY).await;
        let (s, _) = p.call(Method::POST, "/api/v1/plans", "/api/v1/plans", Some(DUTY),
            Some(json!({"jurisdiction_id": county, "source": "format = 1\n"})), &[]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // An incident through its lifecycle.
        let inc = p.post("/api/v1/incidents", "/api/v1/incidents", DUTY, report_body(&app, 120).await).await;
        let iid = id(&inc);
        let ipath = |a: &str| format!("/api/v1/incidents/{iid}/{a}");
        const ACTION: &str = "/api/v1/incidents/{id}/{action}";
        p.get("/api/v1/incidents", "/api/v1/incidents", DUTY).await;
        p.get("/api/v1/incidents", "/api/v1/incidents?limit=1", DUTY).await;
        p.get("/api/v1/incidents/{id}/proposal", &ipath("proposal"), DUTY).await;
        p.post(ACTION, &ipath("verify"), DUTY, json!({"note": "电话核实"})).await;
        p.post(ACTION, &ipath("assess"), COMMANDER, json!({})).await;
        p.post(ACTION, &ipath("activate"), COMMANDER, json!({})).await;
        let (s, _) = p.call(Method::POST, ACTION, &ipath("activate"), Some(COMMANDER), Some(json!({})), &[]).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let tasks = p.get("/api/v1/tasks", "/api/v1/tasks?assignee=me&state=open", MEMBER).await;
        let task = tasks["items"].as_array().unwrap().iter().find(|t| t["incident_id"] == iid.as_str()).expect("a task").clone();
        p.post("/api/v1/tasks/{id}/{action}", &format!("/api/v1/tasks/{}/acknowledge", id(&task)), MEMBER, json!({})).await;
        p.post(ACTION, &ipath("updates"), DUTY, json!({"headcount": 520, "grievances": ["要求公开工程款结算"], "care": ["已送饮用水"],
            "attachments": [{"name": "现场.jpg", "media_type": "image/jpeg", "size": 1024}]})).await;
        p.post("/api/v1/incidents/{id}/regrade/{decision}", &ipath("regrade/accept"), COMMANDER, json!({})).await;
        // The report level Ⅰ owes 云岭市, by the command (林建国 deputises for its post).
        let inc = p.get("/api/v1/incidents/{id}", &format!("/api/v1/incidents/{iid}"), DUTY).await;
        let up = inc["upward_reports"].as_array().unwrap().iter()
            .find(|r| r["to"].as_str().unwrap().starts_with("云岭市")).expect("a report to 云岭市");
        p.post("/api/v1/incidents/{id}/upward-reports/{rid}/submit", &ipath(&format!("upward-reports/{}/submit", id(up))), COMMANDER,
            json!({"text": "现场约520人，已启动Ⅰ级响应"})).await;
        let right = app.person("林建国").await;
        p.post(ACTION, &ipath("consultations"), DUTY, json!({"step": "police", "participants": ["市信访局", "市公安局"], "conclusion": "报请调集警力"})).await;
        let asked = p.post(ACTION, &ipath("coercive-steps"), "demo-plac-secretary", json!({"step": "police", "approver_id": right, "reason": "有人冲击大门"})).await;
        let rid = asked["coercive_steps"][0]["id"].as_str().unwrap().to_string();
        p.post("/api/v1/incidents/{id}/coercive-steps/{request}/{decision}", &ipath(&format!("coercive-steps/{rid}/approve")), COMMANDER, json!({})).await;

        // Calls and acknowledgements. One recipient also has a webhook whose receiver answers
        // 410 Gone, so that a dead letter exists to retry.
        let calls = p.get("/api/v1/incidents/{id}/calls", &ipath("calls"), DUTY).await;
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gone_at = format!("http://{}/hook", gone.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = gone.accept().await else { return };
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 65536];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock.write_all(b"HTTP/1.1 410 Gone\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                });
            }
        });
        let hooked = calls["items"].as_array().unwrap().iter()
            .flat_map(|c| c["recipients"].as_array().unwrap().clone())
            .find(|r| r["person"]["name"] != "郑国平").expect("a recipient other than 郑国平");
        let hooked_id = hooked["person"]["person_id"].as_str().unwrap().to_string();
        p.put("/api/v1/people/{id}/channels", &format!("/api/v1/people/{hooked_id}/channels"), ADMIN,
            json!({"channels": [{"channel": "webhook", "address": gone_at}]})).await;
        app.state.notify.run_once().await.unwrap();
        let inbox = p.get("/api/v1/inbox", "/api/v1/inbox", MEMBER).await;
        let msg = inbox["items"].as_array().unwrap().iter().find(|m| m["incident_id"] == iid.as_str()).expect("an in-app message").clone();
        p.post("/api/v1/inbox/{id}/ack", &format!("/api/v1/inbox/{}/ack", id(&msg)), MEMBER, json!({})).await;
        let call = calls["items"].as_array().unwrap().iter()
            .find(|c| c["recipients"].as_array().unwrap().iter().any(|r| r["person"]["name"] == "郑国平")).expect("a call to 郑国平").clone();
        p.post("/api/v1/calls/{id}/ack", &format!("/api/v1/calls/{}/ack", id(&call)), MEMBER, json!({})).await;
        let other = calls["items"].as_array().unwrap().iter()
            .flat_map(|c| c["recipients"].as_array().unwrap().clone())
            .find(|r| r["person"]["name"] != "郑国平").expect("a second recipient");
        let other_id = other["person"]["person_id"].as_str().unwrap().to_string();
        p.put("/api/v1/people/{id}/channels", &format!("/api/v1/people/{other_id}/channels"), ADMIN,
            json!({"channels": [{"channel": "sms", "address": "13900000042"}]})).await;
        p.get("/api/v1/people/{id}/channels", &format!("/api/v1/people/{other_id}/channels"), ADMIN).await;
        let sms = json!({"from": "13900000042", "text": "收到"});
        let sig = yingji_notify::channels::hmac_hex(app.state.notify.config().secret.as_bytes(), sms.to_string().as_bytes());
        let (s, v) = p.call(Method::POST, "/api/v1/sms/inbound", "/api/v1/sms/inbound", None, Some(sms.clone()), &[("x-yingji-signature", sig.as_str())]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, _) = p.call(Method::POST, "/api/v1/sms/inbound", "/api/v1/sms/inbound", None, Some(sms), &[("x-yingji-signature", "00")]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let deliveries = p.get("/api/v1/deliveries", &format!("/api/v1/deliveries?incident_id={iid}&state=dead"), DUTY).await;
        let did = id(&deliveries["items"][0]);
        p.post("/api/v1/deliveries/{id}/retry", &format!("/api/v1/deliveries/{did}/retry"), DUTY, json!({})).await;

        // Rosters: who holds a post when, and the gaps.
        let wang = app.person("王晓明").await;
        p.put("/api/v1/jurisdictions/{id}/rosters/{post}", &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"), ADMIN, json!({
            "time_zone": "Asia/Shanghai", "start_date": "2026-03-02",
            "shifts": [{"id": "day", "name": "白班", "start": "08:30", "end": "17:30"}],
            "rotation": [{"person_id": wang, "name": "王晓明"}, {"person_id": right, "name": "林建国"}],
            "swaps": [{"a": {"date": "2026-03-02", "shift": "day"}, "b": {"date": "2026-03-03", "shift": "day"}}],
        })).await;
        p.get("/api/v1/jurisdictions/{id}/rosters", &format!("/api/v1/jurisdictions/{county}/rosters"), DUTY).await;
        p.get("/api/v1/jurisdictions/{id}/resolve", &format!("/api/v1/jurisdictions/{county}/resolve?post=duty-officer&at=2026-03-02T02:00:00Z"), DUTY).await;
        p.get("/api/v1/jurisdictions/{id}/gaps", &format!("/api/v1/jurisdictions/{county}/gaps?plan=linxiang-city-mass-petition&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"), DUTY).await;

        // The end of the response and the aftermath.
        app.advance_mins(60);
        p.post(ACTION, &ipath("end"), COMMANDER, json!({"reason": "群众已散去"})).await;
        let v = p.post(ACTION, &ipath("obligations"), DUTY, json!({"kind": "reply", "text": "书面答复上访代表", "owner": "市信访局", "due_at": "2026-03-20T17:00:00+08:00"})).await;
        let oid = id(&v["obligations"][0]);
        let inc = p.get("/api/v1/incidents/{id}", &format!("/api/v1/incidents/{iid}"), DUTY).await;
        for t in inc["tasks"].as_array().unwrap() {
            if t["state"] == "open" {
                p.post("/api/v1/tasks/{id}/{action}", &format!("/api/v1/tasks/{}/done", id(t)), DUTY, json!({})).await;
            }
        }
        p.post("/api/v1/incidents/{id}/obligations/{oid}/fulfil", &format!("/api/v1/incidents/{iid}/obligations/{oid}/fulfil"), DUTY,
            json!({"channel": "挂号信", "outcome": "已答复"})).await;
        let v = p.post(ACTION, &ipath("review"), COMMANDER, json!({"summary": "处置及时", "lessons": ["到岗偏慢"],
            "corrective_actions": [{"title": "完善值班", "owner_post": "township-head", "due_at": "2026-04-01T00:00:00+08:00"}]})).await;
        let ca = id(&v["review"]["corrective_actions"][0]);
        p.post("/api/v1/incidents/{id}/corrective-actions/{cid}/{action}", &format!("/api/v1/incidents/{iid}/corrective-actions/{ca}/link"), COMMANDER,
            json!({"plan_id": "linxiang-city-mass-petition", "version": 1})).await;
        p.post("/api/v1/incidents/{id}/corrective-actions/{cid}/{action}", &format!("/api/v1/incidents/{iid}/corrective-actions/{ca}/done"), COMMANDER, json!({})).await;
        // The gathering's representatives, before the incident closes.
        let rep = p.post("/api/v1/incidents/{id}/representatives", &ipath("representatives"), DUTY,
            json!({"name": "测试代表", "contact": "13900002222", "speaks_for": "住户"})).await;
        let rid = id(&rep);
        p.get("/api/v1/incidents/{id}/representatives", &ipath("representatives"), DUTY).await;
        p.post("/api/v1/incidents/{id}/representatives/{rid}/reveal", &format!("/api/v1/incidents/{iid}/representatives/{rid}/reveal"), COMMANDER,
            json!({"field": "contact", "reason": "约定对话时间"})).await;
        p.post("/api/v1/incidents/{id}/representatives/{rid}/withdraw", &format!("/api/v1/incidents/{iid}/representatives/{rid}/withdraw"), DUTY,
            json!({"reason": "群众另行推选"})).await;
        p.post(ACTION, &ipath("close"), COMMANDER, json!({})).await;
        p.get("/api/v1/incidents/{id}/timeline", &ipath("timeline"), DUTY).await;
        p.get("/api/v1/incidents/{id}", &format!("/api/v1/incidents/{iid}"), DUTY).await;
        p.get("/api/v1/tasks", "/api/v1/tasks", DUTY).await;
        let (s, _) = p.call(Method::GET, "/api/v1/incidents/{id}", "/api/v1/incidents/not-a-uuid", Some(DUTY), None, &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // A petition case.
        let case = p.post("/api/v1/cases", "/api/v1/cases", CLERK, json!({
            "jurisdiction_id": county, "channel": "letter",
            "petitioners": [{ "name": "测试来信人", "contact": "13800000000" }],
            "title": "测试：反映小区停车位被占用", "grievance": "要求物业公司清理占用的停车位",
        })).await;
        let cid = id(&case);
        p.post("/api/v1/cases/{id}/{action}", &format!("/api/v1/cases/{cid}/classify"), CLERK,
            json!({"category": "administrative", "topic": "城乡建设"})).await;
        p.get("/api/v1/cases/{id}", &format!("/api/v1/cases/{cid}"), CLERK).await;
        p.get("/api/v1/cases/{id}/timeline", &format!("/api/v1/cases/{cid}/timeline"), CLERK).await;
        p.get("/api/v1/cases", "/api/v1/cases", CLERK).await;
        p.get("/api/v1/cases/stats", "/api/v1/cases/stats?year=2026", CLERK).await;
        p.post("/api/v1/cases/{id}/reveal", &format!("/api/v1/cases/{cid}/reveal"), CLERK,
            json!({"petitioner": 0, "field": "contact", "reason": "电话回访"})).await;

        // Dispute screening.
        let round = p.post("/api/v1/disputes/rounds", "/api/v1/disputes/rounds", TOWN, json!({"jurisdiction_id": town, "date": "2026-07-15"})).await;
        let rid = id(&round);
        p.get("/api/v1/disputes/rounds/{id}", &format!("/api/v1/disputes/rounds/{rid}"), TOWN).await;
        p.post("/api/v1/disputes/rounds/{id}/submissions", &format!("/api/v1/disputes/rounds/{rid}/submissions"), TOWN,
            json!({"unit_id": village, "nil": true})).await;
        let dispute = p.post("/api/v1/disputes", "/api/v1/disputes", TOWN, json!({
            "jurisdiction_id": village, "round_id": rid, "title": "测试：宅基地界址纠纷",
            "parties": [{"name": "甲户", "role": "申请方"}, {"name": "乙户", "role": "被申请方"}],
            "nature": "土地", "area": "枫林村三组", "risk": "major", "summary": "双方对界址有争议",
        })).await;
        let dsp = id(&dispute);
        p.post("/api/v1/disputes/{id}/{action}", &format!("/api/v1/disputes/{dsp}/assign"), TOWN,
            json!({"unit": "青石镇司法所", "due_on": "2026-03-20"})).await;
        p.get("/api/v1/disputes/{id}", &format!("/api/v1/disputes/{dsp}"), TOWN).await;
        p.get("/api/v1/disputes", "/api/v1/disputes", TOWN).await;

        // Scheduled reports, inside the township plan's special period.
        let secretary = village_secretary(&app).await;
        app.clock.set("2026-08-12T06:00:00Z".parse().unwrap());
        p.post("/api/v1/reports/submissions", "/api/v1/reports/submissions", &secretary, json!({
            "plan_id": "township-special-period", "schedule_id": "daily-report", "due_at": "2026-08-12T07:00:00Z",
            "nil": false, "content": "排查矛盾纠纷2件，已化解1件",
        })).await;
        p.get("/api/v1/reports/board", "/api/v1/reports/board?plan_id=township-special-period&date=2026-08-12", TOWN).await;
        // The search box, over what these areas recorded.
        p.get("/api/v1/search", "/api/v1/search?q=%E7%BA%A0%E7%BA%B7", TOWN).await;

        // Every operation of these areas answered with success once.
        let want: BTreeSet<String> = operations(&p.doc).into_iter()
            .filter(|(_, tag, ..)| EXERCISED_TAGS.contains(&tag.as_str()))
            .map(|(id, ..)| id).collect();
        let missing: Vec<&String> = want.difference(&p.succeeded).collect();
        assert!(missing.is_empty(), "not exercised: {missing:?}");
    };
}
