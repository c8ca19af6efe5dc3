//! The simulated service's HTTP side: routing, authentication, resources (JSON
//! written by hand from the DMTF schemas), faults.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hwctl_sim::{CommonFault, Spawner};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::time::Instant;

use super::{SessionEntry, Shared, State, TaskEffect, TaskEntry};

type Reply = Response<Full<Bytes>>;

const ROOT: &str = "/redfish/v1";
const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
const REGISTRY: &str = "Base.1.8";

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>, spawner: Spawner) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let guard = shared.counters.connection();
        let shared = shared.clone();
        spawner.spawn(async move {
            let _guard = guard;
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn with_headers(mut r: Reply) -> Reply {
    let h = r.headers_mut();
    h.insert("odata-version", HeaderValue::from_static("4.0"));
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    r
}

fn json_reply(status: u16, body: &Value) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    with_headers(r)
}

fn empty(status: u16) -> Reply {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    with_headers(r)
}

/// A Redfish error body (DSP0266 §9.7.1) with one `@Message.ExtendedInfo` entry.
fn error(status: u16, id: &str, message: &str) -> Reply {
    let body = json!({
        "error": {
            "code": format!("{REGISTRY}.GeneralError"),
            "message": "A general error has occurred. See ExtendedInfo for more information.",
            "@Message.ExtendedInfo": [{
                "@odata.type": "#Message.v1_1_1.Message",
                "MessageId": format!("{REGISTRY}.{id}"),
                "Message": message,
                "Severity": "Critical",
                "MessageSeverity": "Critical",
                "Resolution": "See the message."
            }]
        }
    });
    let mut r = json_reply(status, &body);
    if status == 401 {
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"Redfish\""),
        );
    }
    r
}

fn with_etag(mut r: Reply, etag: &'static str) -> Reply {
    r.headers_mut()
        .insert("etag", HeaderValue::from_static(etag));
    r
}

fn allow(mut r: Reply, methods: &'static str) -> Reply {
    r.headers_mut()
        .insert("allow", HeaderValue::from_static(methods));
    r
}

struct Incoming_ {
    method: Method,
    path: String,
    token: Option<String>,
    basic: Option<(String, String)>,
    if_match: Option<String>,
    odata_version: Option<String>,
    body: Bytes,
}

async fn read(req: Request<Incoming>) -> Option<Incoming_> {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let token = header("x-auth-token");
    let if_match = header("if-match");
    let odata_version = header("odata-version");
    let basic = header("authorization").and_then(|h| {
        let (scheme, v) = h.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(v.trim())
            .ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (u, p) = s.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    });
    let method = req.method().clone();
    let mut path = req.uri().path().to_owned();
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    let body = Limited::new(req.into_body(), 1 << 20)
        .collect()
        .await
        .ok()?
        .to_bytes();
    Some(Incoming_ {
        method,
        path,
        token,
        basic,
        if_match,
        odata_version,
        body,
    })
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Reply {
    shared.counters.request();
    let common = shared.plan.take();
    if common.is_some() {
        shared.counters.fault_injected();
    }
    match common {
        Some(CommonFault::Silence) => std::future::pending::<()>().await,
        Some(CommonFault::Delay(d)) => tokio::time::sleep(d).await,
        Some(CommonFault::Garbage) => {
            let mut r = Response::new(Full::new(Bytes::from_static(
                b"\x01\x02 <html>not redfish {{{",
            )));
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            return r;
        }
        _ => {}
    }
    let slow = shared.lock().faults.slow;
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    let Some(req) = read(req).await else {
        return error(400, "MalformedJSON", "The request body could not be read.");
    };
    if common == Some(CommonFault::BadCredentials) {
        shared.counters.failed_login();
        return error(401, "InsufficientPrivilege", "Authentication failed.");
    }
    let mut reply = describe(route(&shared, &req), &req.method);
    if req.method == Method::HEAD {
        let (parts, _) = reply.into_parts();
        reply = Response::from_parts(parts, Full::new(Bytes::new()));
    }
    // A truncated body: the first half of a JSON reply.
    let mut st = shared.lock();
    if st.faults.truncated > 0 && reply.headers().get("content-type").is_some() {
        st.faults.truncated -= 1;
        drop(st);
        let (parts, body) = reply.into_parts();
        let bytes = futures_bytes(body);
        let half = bytes.slice(..bytes.len() / 2);
        let mut r = Response::from_parts(parts, Full::new(half));
        r.headers_mut().remove("content-length");
        return r;
    }
    reply
}

/// Every 200 reply to GET/HEAD gets `Allow` (when the route set none) and, for a
/// JSON resource, `Link: <schema>; rel=describedby` (DSP0266 §8.2).
fn describe(mut reply: Reply, method: &Method) -> Reply {
    if !matches!(*method, Method::GET | Method::HEAD) || reply.status() != StatusCode::OK {
        return reply;
    }
    if !reply.headers().contains_key("allow") {
        reply
            .headers_mut()
            .insert("allow", HeaderValue::from_static("GET, HEAD"));
    }
    let (parts, body) = reply.into_parts();
    let bytes = futures_bytes(body);
    let ty = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
        v.get("@odata.type")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let mut reply = Response::from_parts(parts, Full::new(bytes));
    if let Some(ty) = ty {
        let schema = ty.trim_start_matches('#');
        let schema = schema.rsplit_once('.').map_or(schema, |(a, _)| a);
        if let Ok(v) = HeaderValue::from_str(&format!(
            "<http://redfish.dmtf.org/schemas/v1/{schema}.json>; rel=describedby"
        )) {
            reply.headers_mut().insert("link", v);
        }
    }
    reply
}

fn futures_bytes(body: Full<Bytes>) -> Bytes {
    // Full<Bytes> yields its one frame immediately.
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut fut = pin!(body.collect());
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(c)) => c.to_bytes(),
        _ => Bytes::new(),
    }
}

fn route(shared: &Shared, req: &Incoming_) -> Reply {
    if let Some(v) = &req.odata_version
        && v.trim() != "4.0"
    {
        return error(
            412,
            "HeaderInvalid",
            "The OData-Version header requests a version this service does not support.",
        );
    }
    let path = req.path.as_str();
    let public = matches!(
        (&req.method, path),
        (
            &Method::GET | &Method::HEAD,
            "/redfish" | ROOT | "/redfish/v1/odata" | "/redfish/v1/$metadata"
        )
    ) || (req.method == Method::POST && path.starts_with(SESSIONS));
    let login_path = path == SESSIONS || path == "/redfish/v1/SessionService/Sessions/Members";
    if login_path && req.method == Method::POST && shared.config.session_service {
        return login(shared, req);
    }
    let mut st = shared.lock();
    if !public {
        let by_token = req
            .token
            .as_ref()
            .is_some_and(|t| st.sessions.contains_key(t));
        let by_basic = req
            .basic
            .as_ref()
            .is_some_and(|(u, p)| *u == shared.config.username && *p == shared.config.password);
        if !(by_token || by_basic) {
            shared.counters.failed_login();
            return error(
                401,
                "NoValidSession",
                "There is no valid session established with the implementation.",
            );
        }
        if st.faults.unauthorized > 0 {
            st.faults.unauthorized -= 1;
            if let Some(t) = &req.token {
                st.sessions.remove(t);
            }
            shared.counters.failed_login();
            return error(401, "NoValidSession", "The session is no longer valid.");
        }
        if let Some((status, times)) = st.faults.status
            && times > 0
        {
            st.faults.status = if times > 1 {
                Some((status, times - 1))
            } else {
                None
            };
            return error(
                status,
                "InternalError",
                "The request failed due to an internal service error.",
            );
        }
    }
    let now = Instant::now();
    settle_tasks(&mut st, now);
    for s in &mut st.systems {
        s.settle(now);
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = matches!(req.method, Method::GET | Method::HEAD);
    match segs.as_slice() {
        ["redfish"] if get => json_reply(200, &json!({ "v1": "/redfish/v1/" })),
        ["redfish", "v1"] if get => json_reply(200, &service_root(shared)),
        ["redfish", "v1", "odata"] if get => json_reply(200, &odata_document()),
        ["redfish", "v1", "$metadata"] if get => metadata(),
        ["redfish", "v1", "Systems"] if get => {
            let members: Vec<String> = st
                .systems
                .iter()
                .map(|s| format!("{ROOT}/Systems/{}", s.id))
                .collect();
            json_reply(
                200,
                &collection(
                    "ComputerSystemCollection",
                    "Computer System Collection",
                    "/redfish/v1/Systems",
                    &members,
                ),
            )
        }
        ["redfish", "v1", "Systems", id] => {
            let Some(i) = st.systems.iter().position(|s| s.id == *id) else {
                return not_found(path);
            };
            match req.method {
                Method::GET | Method::HEAD => {
                    let (body, etag) = system_json(shared, &st, i);
                    let mut r = json_reply(200, &body);
                    if let Ok(v) = HeaderValue::from_str(&etag) {
                        r.headers_mut().insert("etag", v);
                    }
                    allow(r, "GET, PATCH")
                }
                Method::PATCH => patch_system(shared, &mut st, i, req),
                _ => allow(
                    error(
                        405,
                        "OperationNotAllowed",
                        "The HTTP method is not allowed on this resource.",
                    ),
                    "GET, PATCH",
                ),
            }
        }
        [
            "redfish",
            "v1",
            "Systems",
            id,
            "Actions",
            "ComputerSystem.Reset",
        ] => {
            let Some(i) = st.systems.iter().position(|s| s.id == *id) else {
                return not_found(path);
            };
            if req.method != Method::POST {
                return allow(
                    error(405, "OperationNotAllowed", "Actions take POST."),
                    "POST",
                );
            }
            reset(shared, &mut st, i, req)
        }
        ["redfish", "v1", "Chassis"] if get => {
            let members: Vec<String> = st
                .systems
                .iter()
                .map(|s| format!("{ROOT}/Chassis/{}", s.id))
                .collect();
            json_reply(
                200,
                &collection(
                    "ChassisCollection",
                    "Chassis Collection",
                    "/redfish/v1/Chassis",
                    &members,
                ),
            )
        }
        ["redfish", "v1", "Chassis", id] if get => match st.systems.iter().find(|s| s.id == *id) {
            Some(s) => json_reply(200, &chassis_json(&s.id, s.on)),
            None => not_found(path),
        },
        ["redfish", "v1", "Chassis", id, "Thermal"] if get => {
            match st.systems.iter().find(|s| s.id == *id) {
                Some(s) => json_reply(200, &thermal_json(&s.id, s.on)),
                None => not_found(path),
            }
        }
        ["redfish", "v1", "Chassis", id, "Power"] if get => {
            match st.systems.iter().find(|s| s.id == *id) {
                Some(s) => json_reply(200, &power_json(&s.id, s.on)),
                None => not_found(path),
            }
        }
        ["redfish", "v1", "Managers"] if get => json_reply(
            200,
            &collection(
                "ManagerCollection",
                "Manager Collection",
                "/redfish/v1/Managers",
                &[format!("{ROOT}/Managers/BMC")],
            ),
        ),
        ["redfish", "v1", "Managers", "BMC"] if get => json_reply(200, &manager_json(shared, &st)),
        ["redfish", "v1", "SessionService"] if get && shared.config.session_service => json_reply(
            200,
            &json!({
                "@odata.id": "/redfish/v1/SessionService",
                "@odata.type": "#SessionService.v1_1_8.SessionService",
                "Id": "SessionService",
                "Name": "Session Service",
                "ServiceEnabled": true,
                "SessionTimeout": 1800,
                "Status": {"State": "Enabled", "Health": "OK"},
                "Sessions": {"@odata.id": SESSIONS}
            }),
        ),
        ["redfish", "v1", "SessionService", "Sessions"] if shared.config.session_service => {
            if !get {
                return allow(
                    error(405, "OperationNotAllowed", "Use GET or POST."),
                    "GET, POST",
                );
            }
            let members: Vec<String> = st
                .sessions
                .values()
                .map(|s| format!("{SESSIONS}/{}", s.id))
                .collect();
            allow(
                json_reply(
                    200,
                    &collection(
                        "SessionCollection",
                        "Session Collection",
                        SESSIONS,
                        &members,
                    ),
                ),
                "GET, POST",
            )
        }
        ["redfish", "v1", "SessionService", "Sessions", id] if shared.config.session_service => {
            let key = st
                .sessions
                .iter()
                .find(|(_, s)| s.id == *id)
                .map(|(k, _)| k.clone());
            let Some(key) = key else {
                return not_found(path);
            };
            match req.method {
                Method::GET | Method::HEAD => {
                    let s = &st.sessions[&key];
                    allow(
                        json_reply(200, &session_json(&s.id, &s.user)),
                        "GET, DELETE",
                    )
                }
                Method::DELETE => {
                    st.sessions.remove(&key);
                    empty(204)
                }
                _ => allow(
                    error(405, "OperationNotAllowed", "Use GET or DELETE."),
                    "GET, DELETE",
                ),
            }
        }
        ["redfish", "v1", "AccountService"] if get => json_reply(
            200,
            &json!({
                "@odata.id": "/redfish/v1/AccountService",
                "@odata.type": "#AccountService.v1_5_0.AccountService",
                "Id": "AccountService",
                "Name": "Account Service",
                "ServiceEnabled": true,
                "Status": {"State": "Enabled", "Health": "OK"},
                "Accounts": {"@odata.id": "/redfish/v1/AccountService/Accounts"},
                "Roles": {"@odata.id": "/redfish/v1/AccountService/Roles"}
            }),
        ),
        ["redfish", "v1", "AccountService", "Accounts"] if get => json_reply(
            200,
            &collection(
                "ManagerAccountCollection",
                "Accounts Collection",
                "/redfish/v1/AccountService/Accounts",
                &["/redfish/v1/AccountService/Accounts/1".to_owned()],
            ),
        ),
        ["redfish", "v1", "AccountService", "Accounts", "1"] if get => with_etag(
            json_reply(
                200,
                &json!({
                    "@odata.id": "/redfish/v1/AccountService/Accounts/1",
                    "@odata.type": "#ManagerAccount.v1_3_0.ManagerAccount",
                    "Id": "1",
                    "Name": "User Account",
                    "Enabled": true,
                    "UserName": shared.config.username,
                    "Password": null,
                    "RoleId": "Administrator",
                    "Locked": false,
                    "Links": {"Role": {"@odata.id": "/redfish/v1/AccountService/Roles/Administrator"}}
                }),
            ),
            "W/\"account-1\"",
        ),
        ["redfish", "v1", "AccountService", "Roles"] if get => json_reply(
            200,
            &collection(
                "RoleCollection",
                "Roles Collection",
                "/redfish/v1/AccountService/Roles",
                &ROLES
                    .iter()
                    .map(|(r, _)| format!("/redfish/v1/AccountService/Roles/{r}"))
                    .collect::<Vec<_>>(),
            ),
        ),
        ["redfish", "v1", "AccountService", "Roles", role] if get => {
            match ROLES.iter().find(|(r, _)| r == role) {
                Some((r, privileges)) => json_reply(
                    200,
                    &json!({
                        "@odata.id": format!("/redfish/v1/AccountService/Roles/{r}"),
                        "@odata.type": "#Role.v1_2_0.Role",
                        "Id": r,
                        "Name": "User Role",
                        "RoleId": r,
                        "IsPredefined": true,
                        "AssignedPrivileges": privileges
                    }),
                ),
                None => not_found(path),
            }
        }
        ["redfish", "v1", "TaskService", "TaskMonitors", id] if get => {
            task_monitor(shared, &mut st, id, now)
        }
        ["redfish", "v1", "TaskService", "Tasks", id] if get => {
            match id.parse::<u64>().ok().and_then(|n| st.tasks.get(&n)) {
                Some(t) => json_reply(200, &task_json(id, t, now, st.faults.failing_tasks)),
                None => not_found(path),
            }
        }
        _ if !get && known_path(&segs) => allow(
            error(
                405,
                "OperationNotAllowed",
                "The HTTP method is not allowed on this resource.",
            ),
            "GET",
        ),
        _ => not_found(path),
    }
}

fn known_path(segs: &[&str]) -> bool {
    matches!(
        segs,
        ["redfish"]
            | ["redfish", "v1"]
            | [
                "redfish",
                "v1",
                "Systems" | "Chassis" | "Managers" | "SessionService"
            ]
    )
}

fn not_found(path: &str) -> Reply {
    error(
        404,
        "ResourceMissingAtURI",
        &format!("The resource at the URI {path} was not found."),
    )
}

fn login(shared: &Shared, req: &Incoming_) -> Reply {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return error(
                400,
                "MalformedJSON",
                "The request body submitted was malformed JSON.",
            );
        }
    };
    let (Some(user), Some(password)) = (body["UserName"].as_str(), body["Password"].as_str())
    else {
        return error(
            400,
            "PropertyMissing",
            "The properties UserName and Password are required.",
        );
    };
    if user != shared.config.username || password != shared.config.password {
        shared.counters.failed_login();
        return error(
            401,
            "ResourceAtUriUnauthorized",
            "While accessing the resource, the service received an authorization error.",
        );
    }
    let mut st = shared.lock();
    if st.sessions.len() >= shared.config.session_limit {
        return error(
            503,
            "SessionLimitExceeded",
            "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
        );
    }
    let n = st.next_session;
    st.next_session += 1;
    let id = format!("{n}");
    let token = format!(
        "{:016x}{:016x}",
        rand_u64(n),
        rand_u64(n.wrapping_mul(31) ^ 0x5eed)
    );
    st.sessions.insert(
        token.clone(),
        SessionEntry {
            id: id.clone(),
            user: user.to_owned(),
            _guard: shared.counters.session(),
        },
    );
    let mut r = json_reply(201, &session_json(&id, user));
    if let Ok(v) = HeaderValue::from_str(&token) {
        r.headers_mut().insert("x-auth-token", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{SESSIONS}/{id}")) {
        r.headers_mut().insert("location", v);
    }
    r
}

/// Unpredictable enough for a loopback simulator (not a CSPRNG).
fn rand_u64(seed: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(seed);
    h.finish()
}

fn session_json(id: &str, user: &str) -> Value {
    json!({
        "@odata.id": format!("{SESSIONS}/{id}"),
        "@odata.type": "#Session.v1_3_0.Session",
        "Id": id,
        "Name": "User Session",
        "UserName": user
    })
}

fn collection(ty: &str, name: &str, id: &str, members: &[String]) -> Value {
    json!({
        "@odata.id": id,
        "@odata.type": format!("#{ty}.{ty}"),
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members.iter().map(|m| json!({"@odata.id": m})).collect::<Vec<_>>()
    })
}

fn service_root(shared: &Shared) -> Value {
    let mut v = json!({
        "@odata.id": "/redfish/v1/",
        "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.6.0",
        "UUID": shared.uuid,
        "Systems": {"@odata.id": "/redfish/v1/Systems"},
        "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
        "Managers": {"@odata.id": "/redfish/v1/Managers"},
        "AccountService": {"@odata.id": "/redfish/v1/AccountService"},
        "Links": {}
    });
    if shared.config.session_service {
        v["SessionService"] = json!({"@odata.id": "/redfish/v1/SessionService"});
        v["Links"] = json!({"Sessions": {"@odata.id": SESSIONS}});
    }
    v
}

fn odata_document() -> Value {
    json!({
        "@odata.context": "/redfish/v1/$metadata",
        "value": [
            {"name": "Service", "kind": "Singleton", "url": "/redfish/v1/"},
            {"name": "Systems", "kind": "Singleton", "url": "/redfish/v1/Systems"},
            {"name": "Chassis", "kind": "Singleton", "url": "/redfish/v1/Chassis"},
            {"name": "Managers", "kind": "Singleton", "url": "/redfish/v1/Managers"},
            {"name": "SessionService", "kind": "Singleton", "url": "/redfish/v1/SessionService"},
            {"name": "AccountService", "kind": "Singleton", "url": "/redfish/v1/AccountService"}
        ]
    })
}

fn metadata() -> Reply {
    let schemas: &[(&str, &str)] = &[
        ("ServiceRoot", "ServiceRoot.v1_5_0"),
        ("ComputerSystemCollection", ""),
        ("ComputerSystem", "ComputerSystem.v1_5_0"),
        ("ChassisCollection", ""),
        ("Chassis", "Chassis.v1_10_0"),
        ("Thermal", "Thermal.v1_5_0"),
        ("Power", "Power.v1_5_0"),
        ("ManagerCollection", ""),
        ("Manager", "Manager.v1_5_0"),
        ("SessionService", "SessionService.v1_1_8"),
        ("SessionCollection", ""),
        ("Session", "Session.v1_3_0"),
        ("Task", "Task.v1_4_0"),
        ("AccountService", "AccountService.v1_5_0"),
        ("ManagerAccountCollection", ""),
        ("ManagerAccount", "ManagerAccount.v1_3_0"),
        ("RoleCollection", ""),
        ("Role", "Role.v1_2_0"),
        ("Message", "Message.v1_1_1"),
        ("Resource", "Resource.v1_0_0"),
    ];
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n",
    );
    for (file, versioned) in schemas {
        x.push_str(&format!(
            "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/{file}_v1.xml\">\n    <edmx:Include Namespace=\"{file}\"/>\n"
        ));
        if !versioned.is_empty() {
            x.push_str(&format!("    <edmx:Include Namespace=\"{versioned}\"/>\n"));
        }
        x.push_str("  </edmx:Reference>\n");
    }
    x.push_str("  <edmx:DataServices>\n    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n      <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_5_0.ServiceContainer\"/>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n");
    let mut r = Response::new(Full::new(Bytes::from(x)));
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    with_headers(r)
}

fn etag_of(s: &super::System) -> String {
    format!("W/\"{}-{}\"", s.id, s.generation)
}

fn system_json(shared: &Shared, st: &State, i: usize) -> (Value, String) {
    let s = &st.systems[i];
    let etag = etag_of(s);
    let base = format!("{ROOT}/Systems/{}", s.id);
    let body = json!({
        "@odata.id": base,
        "@odata.type": "#ComputerSystem.v1_5_0.ComputerSystem",
        "@odata.etag": etag,
        "Id": s.id,
        "Name": format!("Simulated system {}", s.id),
        "SystemType": "Physical",
        "Manufacturer": "hwctl-redfish simulator",
        "Model": "Sim",
        "UUID": format!("38947555-7742-3448-3784-{:012}", i + 1),
        "PowerState": s.power_state(),
        "Status": {"State": "Enabled", "Health": "OK"},
        "Boot": {
            "BootSourceOverrideEnabled": s.boot_enabled,
            "BootSourceOverrideTarget": s.boot_target,
            "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
            "BootSourceOverrideMode": s.boot_mode
        },
        "Links": {
            "Chassis": [{"@odata.id": format!("{ROOT}/Chassis/{}", s.id)}],
            "ManagedBy": [{"@odata.id": format!("{ROOT}/Managers/BMC")}]
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": format!("{base}/Actions/ComputerSystem.Reset"),
                "ResetType@Redfish.AllowableValues": shared.config.reset_types
            }
        }
    });
    (body, etag)
}

/// The predefined roles (DSP0266 §13.4) and their privileges.
const ROLES: &[(&str, &[&str])] = &[
    (
        "Administrator",
        &[
            "Login",
            "ConfigureManager",
            "ConfigureUsers",
            "ConfigureSelf",
            "ConfigureComponents",
        ],
    ),
    (
        "Operator",
        &["Login", "ConfigureSelf", "ConfigureComponents"],
    ),
    ("ReadOnly", &["Login", "ConfigureSelf"]),
];

const BOOT_TARGETS: &[&str] = &["None", "Pxe", "Cd", "Usb", "Hdd", "BiosSetup", "UefiHttp"];

fn chassis_json(id: &str, on: bool) -> Value {
    json!({
        "@odata.id": format!("{ROOT}/Chassis/{id}"),
        "@odata.type": "#Chassis.v1_10_0.Chassis",
        "Id": id,
        "Name": format!("Chassis {id}"),
        "ChassisType": "RackMount",
        "PowerState": if on { "On" } else { "Off" },
        "Status": {"State": "Enabled", "Health": "OK"},
        "Thermal": {"@odata.id": format!("{ROOT}/Chassis/{id}/Thermal")},
        "Power": {"@odata.id": format!("{ROOT}/Chassis/{id}/Power")},
        "Links": {
            "ComputerSystems": [{"@odata.id": format!("{ROOT}/Systems/{id}")}],
            "ManagedBy": [{"@odata.id": format!("{ROOT}/Managers/BMC")}]
        }
    })
}

fn thermal_json(id: &str, on: bool) -> Value {
    let cpu = if on { 41.0 } else { 22.0 };
    let fan: u32 = if on { 2100 } else { 0 };
    json!({
        "@odata.id": format!("{ROOT}/Chassis/{id}/Thermal"),
        "@odata.type": "#Thermal.v1_5_0.Thermal",
        "Id": "Thermal",
        "Name": "Thermal",
        "Temperatures": [
            {"@odata.id": format!("{ROOT}/Chassis/{id}/Thermal#/Temperatures/0"), "MemberId": "0",
             "Name": "CPU1 Temp", "ReadingCelsius": cpu, "PhysicalContext": "CPU",
             "Status": {"State": "Enabled", "Health": "OK"}},
            {"@odata.id": format!("{ROOT}/Chassis/{id}/Thermal#/Temperatures/1"), "MemberId": "1",
             "Name": "Intake Temp", "ReadingCelsius": 24.5, "PhysicalContext": "Intake",
             "Status": {"State": "Enabled", "Health": "OK"}}
        ],
        "Fans": [
            {"@odata.id": format!("{ROOT}/Chassis/{id}/Thermal#/Fans/0"), "MemberId": "0",
             "Name": "System Fan 1", "Reading": fan, "ReadingUnits": "RPM", "PhysicalContext": "Backplane",
             "Status": {"State": "Enabled", "Health": "OK"}}
        ]
    })
}

fn power_json(id: &str, on: bool) -> Value {
    json!({
        "@odata.id": format!("{ROOT}/Chassis/{id}/Power"),
        "@odata.type": "#Power.v1_5_0.Power",
        "Id": "Power",
        "Name": "Power",
        "PowerControl": [
            {"@odata.id": format!("{ROOT}/Chassis/{id}/Power#/PowerControl/0"), "MemberId": "0",
             "Name": "System Input Power", "PowerConsumedWatts": if on { 344.0 } else { 8.0 },
             "Status": {"State": "Enabled", "Health": "OK"}}
        ],
        "Voltages": [
            {"@odata.id": format!("{ROOT}/Chassis/{id}/Power#/Voltages/0"), "MemberId": "0",
             "Name": "VRM1 Voltage", "ReadingVolts": 12.0, "PhysicalContext": "VoltageRegulator",
             "Status": {"State": "Enabled", "Health": "OK"}}
        ]
    })
}

fn manager_json(shared: &Shared, st: &State) -> Value {
    json!({
        "@odata.id": format!("{ROOT}/Managers/BMC"),
        "@odata.type": "#Manager.v1_5_0.Manager",
        "Id": "BMC",
        "Name": "Manager",
        "ManagerType": "BMC",
        "ServiceEntryPointUUID": shared.uuid,
        "FirmwareVersion": "hw-redfish-sim 0.1",
        "Status": {"State": "Enabled", "Health": "OK"},
        "Links": {
            "ManagerForServers": st.systems.iter().map(|s| json!({"@odata.id": format!("{ROOT}/Systems/{}", s.id)})).collect::<Vec<_>>(),
            "ManagerForChassis": st.systems.iter().map(|s| json!({"@odata.id": format!("{ROOT}/Chassis/{}", s.id)})).collect::<Vec<_>>()
        }
    })
}

fn new_task(shared: &Shared, st: &mut State, system: usize, effect: TaskEffect) -> Option<Reply> {
    let d = st.faults.tasks?;
    let n = st.next_task;
    st.next_task += 1;
    st.tasks.insert(
        n,
        TaskEntry {
            ready_at: Instant::now() + d,
            system,
            effect,
            done: false,
        },
    );
    let _ = shared;
    let mut r = json_reply(
        202,
        &task_json(&n.to_string(), &st.tasks[&n], Instant::now(), false),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("{ROOT}/TaskService/TaskMonitors/{n}")) {
        r.headers_mut().insert("location", v);
    }
    Some(r)
}

fn settle_tasks(st: &mut State, now: Instant) {
    let failing = st.faults.failing_tasks;
    let mut effects = Vec::new();
    for t in st.tasks.values_mut() {
        if !t.done && now >= t.ready_at {
            t.done = true;
            if !failing && let TaskEffect::Power(on) = t.effect {
                effects.push((t.system, on));
            }
        }
    }
    for (i, on) in effects {
        if let Some(s) = st.systems.get_mut(i) {
            s.pending = None;
            s.set_on(on);
        }
    }
}

fn task_json(id: &str, t: &TaskEntry, now: Instant, failing: bool) -> Value {
    let state = match (now >= t.ready_at, failing) {
        (false, _) => "Running",
        (true, false) => "Completed",
        (true, true) => "Exception",
    };
    let mut v = json!({
        "@odata.id": format!("{ROOT}/TaskService/Tasks/{id}"),
        "@odata.type": "#Task.v1_4_0.Task",
        "Id": id,
        "Name": "Task",
        "TaskState": state,
        "TaskStatus": if failing && now >= t.ready_at { "Critical" } else { "OK" },
        "PercentComplete": if now >= t.ready_at { 100 } else { 50 },
        "TaskMonitor": format!("{ROOT}/TaskService/TaskMonitors/{id}"),
        "Messages": []
    });
    if failing && now >= t.ready_at {
        v["Messages"] = json!([{"MessageId": format!("{REGISTRY}.InternalError"), "Message": "The task failed."}]);
    }
    v
}

fn task_monitor(shared: &Shared, st: &mut State, id: &str, now: Instant) -> Reply {
    let _ = shared;
    let Some(t) = id.parse::<u64>().ok().and_then(|n| st.tasks.get(&n)) else {
        return not_found(&format!("{ROOT}/TaskService/TaskMonitors/{id}"));
    };
    let body = task_json(id, t, now, st.faults.failing_tasks);
    if now < t.ready_at {
        let mut r = json_reply(202, &body);
        if let Ok(v) = HeaderValue::from_str(&format!("{ROOT}/TaskService/TaskMonitors/{id}")) {
            r.headers_mut().insert("location", v);
        }
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return r;
    }
    json_reply(200, &body)
}

fn reset(shared: &Shared, st: &mut State, i: usize, req: &Incoming_) -> Reply {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return error(
                400,
                "MalformedJSON",
                "The request body submitted was malformed JSON.",
            );
        }
    };
    let Some(kind) = body.get("ResetType").and_then(Value::as_str) else {
        return error(
            400,
            "ActionParameterMissing",
            "The action ComputerSystem.Reset requires the parameter ResetType.",
        );
    };
    if !shared.config.reset_types.iter().any(|t| t == kind) {
        return error(
            400,
            "ActionParameterValueNotInList",
            &format!(
                "The value {kind} for the parameter ResetType in the action ComputerSystem.Reset is not in the list of acceptable values."
            ),
        );
    }
    let s = &mut st.systems[i];
    s.resets.push(kind.to_owned());
    let target = match kind {
        "On" | "ForceOn" | "ForceRestart" | "GracefulRestart" | "PowerCycle" => Some(true),
        "ForceOff" | "GracefulShutdown" => Some(false),
        "PushPowerButton" => Some(!s.on),
        "Nmi" => {
            if !s.on {
                // Base registry (DSP8011): the request cannot be performed
                // because the resource is in standby; its resolution: ensure the
                // resource is in the correct power state.
                return error(
                    409,
                    "ResourceInStandby",
                    "The request could not be performed because the resource is in standby.",
                );
            }
            s.nmis += 1;
            None
        }
        _ => None,
    };
    if let Some(on) = target {
        if let Some(r) = new_task(shared, st, i, TaskEffect::Power(on)) {
            return r;
        }
        let s = &mut st.systems[i];
        let delay = shared.config.power_delay;
        if delay.is_zero()
            || matches!(kind, "ForceRestart" | "GracefulRestart" | "PowerCycle") && s.on
        {
            s.set_on(on);
        } else if s.on != on {
            s.pending = Some((on, Instant::now() + delay));
        }
    } else if let Some(r) = new_task(shared, st, i, TaskEffect::None) {
        return r;
    }
    empty(204)
}

fn patch_system(shared: &Shared, st: &mut State, i: usize, req: &Incoming_) -> Reply {
    let etag = etag_of(&st.systems[i]);
    match &req.if_match {
        None if shared.config.require_if_match => {
            return error(
                412,
                "PreconditionRequired",
                "This request requires the If-Match header.",
            );
        }
        Some(m) if m.trim() != "*" && m.trim() != etag => {
            return error(
                412,
                "PreconditionFailed",
                "The ETag supplied did not match the ETag required to change this resource.",
            );
        }
        _ => {}
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return error(
                400,
                "MalformedJSON",
                "The request body submitted was malformed JSON.",
            );
        }
    };
    let Some(obj) = body.as_object() else {
        return error(
            400,
            "MalformedJSON",
            "The request body must be a JSON object.",
        );
    };
    let mut target = None;
    let mut enabled = None;
    let mut mode = None;
    for (k, v) in obj {
        if k != "Boot" {
            return error(
                400,
                "PropertyNotWritable",
                &format!(
                    "The property {k} is a read only property and cannot be assigned a value."
                ),
            );
        }
        let Some(boot) = v.as_object() else {
            return error(
                400,
                "PropertyValueTypeError",
                "The value for the property Boot is of a different type than the property can accept.",
            );
        };
        for (bk, bv) in boot {
            let Some(val) = bv.as_str() else {
                return error(
                    400,
                    "PropertyValueTypeError",
                    &format!(
                        "The value for the property {bk} is of a different type than the property can accept."
                    ),
                );
            };
            let (slot, allowed): (&mut Option<String>, &[&str]) = match bk.as_str() {
                "BootSourceOverrideTarget" => (&mut target, BOOT_TARGETS),
                "BootSourceOverrideEnabled" => (&mut enabled, &["Disabled", "Once", "Continuous"]),
                "BootSourceOverrideMode" => (&mut mode, &["Legacy", "UEFI"]),
                other => {
                    return error(
                        400,
                        "PropertyUnknown",
                        &format!(
                            "The property {other} is not in the list of valid properties for the resource."
                        ),
                    );
                }
            };
            if !allowed.contains(&val) {
                return error(
                    400,
                    "PropertyValueNotInList",
                    &format!(
                        "The value {val} for the property {bk} is not in the list of acceptable values."
                    ),
                );
            }
            *slot = Some(val.to_owned());
        }
    }
    if st.faults.reject_target_with_mode && target.is_some() && mode.is_some() {
        return error(
            400,
            "PropertyValueConflict",
            "The property BootSourceOverrideTarget cannot be set together with BootSourceOverrideMode.",
        );
    }
    let s = &mut st.systems[i];
    if let Some(t) = target {
        s.boot_target = t;
    }
    if let Some(e) = enabled {
        s.boot_enabled = e;
    }
    if let Some(m) = mode {
        s.boot_mode = m;
    }
    s.generation += 1;
    s.patches += 1;
    if let Some(r) = new_task(shared, st, i, TaskEffect::None) {
        return r;
    }
    empty(204)
}
