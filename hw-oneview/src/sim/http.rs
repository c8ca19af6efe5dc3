//! The simulator's HTTP/1.1 servers (hyper; TLS by tokio-rustls when configured):
//! the appliance's REST API and one iLO per server. Routing, auth, faults, counting.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hwctl_sim::{CommonFault, Spawner};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::appliance::{Answer, Appliance, Effect, answer, error};
use super::{OneviewFault, RecordedRequest, Shared, lock};

type Reply = Response<Full<Bytes>>;

/// Which server a listener is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Appliance,
    Ilo(usize),
}

pub(super) async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    spawner: Spawner,
    target: Target,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "simulator accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let guard = shared.counters.connection();
        let shared = shared.clone();
        let tls = tls.clone();
        spawner.spawn(async move {
            let _guard = guard;
            let service = service_fn(move |req| {
                let shared = shared.clone();
                handle(shared, target, req)
            });
            let builder = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    if let Ok(s) = acceptor.accept(stream).await {
                        let _ = builder.serve_connection(TokioIo::new(s), service).await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

fn reply(a: Answer) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(a.body)));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    for (k, v) in a.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The first matching fault rule, one use of it consumed.
fn take_rule(shared: &Shared, method: &str, path: &str, target: Target) -> Option<OneviewFault> {
    let mut rules = lock(&shared.rules);
    let i = rules.iter().position(|r| {
        r.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
            && (r.ilo || target == Target::Appliance)
            && r.remaining != Some(0)
    })?;
    let rule = &mut rules[i];
    if let Some(n) = rule.remaining.as_mut() {
        *n -= 1;
    }
    let fault = rule.fault.clone();
    if rule.remaining == Some(0) {
        rules.remove(i);
    }
    Some(fault)
}

async fn handle(
    shared: Arc<Shared>,
    target: Target,
    req: Request<Incoming>,
) -> Result<Reply, hyper::Error> {
    let shared = &*shared;
    shared.counters.request();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let mut rec = RecordedRequest {
        target: match target {
            Target::Appliance => "appliance".to_owned(),
            Target::Ilo(i) => format!("ilo-{i}"),
        },
        method: method.clone(),
        path: path.clone(),
        query,
        auth: header(&req, "auth"),
        api_version: header(&req, "x-api-version"),
        x_auth_token: header(&req, "x-auth-token"),
        accept_language: header(&req, "accept-language"),
        content_type: header(&req, "content-type"),
        body: String::new(),
    };
    let body = match Limited::new(req.into_body(), 4 * 1024 * 1024)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    rec.body = String::from_utf8_lossy(&body).into_owned();
    let auth = rec.auth.clone();
    let version = rec.api_version.clone();
    let token = rec.x_auth_token.clone();
    lock(&shared.log).push(rec);

    let mut bad_credentials = false;
    if let Some(fault) = shared.common.take() {
        shared.counters.fault_injected();
        match fault {
            CommonFault::Silence => std::future::pending::<()>().await,
            CommonFault::BadCredentials => bad_credentials = true,
            CommonFault::Garbage => {
                return Ok(reply(Answer {
                    status: 200,
                    headers: Vec::new(),
                    body: "<html>\u{1}not OneView {\"powerState\": ".into(),
                }));
            }
            CommonFault::Delay(d) => tokio::time::sleep(d).await,
            _ => {}
        }
    }
    let rule = take_rule(shared, &method, &path, target);
    match &rule {
        Some(OneviewFault::Delay(d)) => tokio::time::sleep(*d).await,
        Some(OneviewFault::Status(code)) => {
            let code_name = match code {
                409 => "CONFLICT",
                408 => "REQUEST_TIMEOUT",
                401 => "AUTHN_SESSION_EXPIRED",
                _ => "INTERNAL_ERROR",
            };
            return Ok(reply(error(*code, code_name, "injected by the simulator")));
        }
        Some(OneviewFault::MalformedJson) => {
            return Ok(reply(Answer {
                status: 200,
                headers: Vec::new(),
                body: "{\"powerState\": \"On\", \"uri\": [truncated".into(),
            }));
        }
        _ => {}
    }
    let now = Instant::now();
    let mut app = lock(&shared.appliance);
    app.settle(now);
    if let Some(OneviewFault::TaskError { code, message }) = rule {
        app.next_task_error = Some((code, message));
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let a = match target {
        Target::Appliance => appliance(
            shared,
            &mut app,
            &method,
            &path,
            auth.as_deref(),
            version.as_deref(),
            parsed,
            bad_credentials,
            now,
        ),
        Target::Ilo(i) => ilo(
            shared,
            &mut app,
            i,
            &method,
            &path,
            token.as_deref(),
            parsed,
        ),
    };
    Ok(reply(a))
}

#[allow(clippy::too_many_arguments)]
fn appliance(
    shared: &Shared,
    app: &mut Appliance,
    method: &str,
    path: &str,
    auth: Option<&str>,
    version: Option<&str>,
    body: Option<Value>,
    bad_credentials: bool,
    now: Instant,
) -> Answer {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match (method, segs.as_slice()) {
        ("GET", ["rest", "version"]) => {
            return answer(
                200,
                json!({"minimumVersion": app.min_version, "currentVersion": app.current_version}),
            );
        }
        ("POST", ["rest", "login-sessions"]) => {
            let user = body
                .as_ref()
                .and_then(|b| b["userName"].as_str())
                .unwrap_or("");
            let pw = body
                .as_ref()
                .and_then(|b| b["password"].as_str())
                .unwrap_or("");
            if bad_credentials || user != app.username || pw != app.password {
                shared.counters.failed_login();
                return error(401, "AUTHN_AUTH_FAIL", "Invalid user name or password.");
            }
            if app.sessions.len() >= app.session_limit {
                shared.counters.failed_login();
                return error(
                    400,
                    "SESSION_LIMIT_EXCEEDED",
                    "The maximum number of concurrent sessions has been reached.",
                );
            }
            let id = app.token();
            app.sessions.insert(id.clone(), shared.counters.session());
            return answer(200, json!({"partnerData": {}, "sessionID": id}));
        }
        _ => {}
    }
    let valid = !bad_credentials && auth.is_some_and(|a| app.sessions.contains_key(a));
    if !valid {
        return error(
            401,
            "AUTHN_SESSION_EXPIRED",
            "The session is not valid or has expired. Log in again.",
        );
    }
    if let Some(v) = version {
        let ok = v
            .trim()
            .parse::<u32>()
            .is_ok_and(|v| v >= app.min_version && v <= app.current_version);
        if !ok {
            return error(
                400,
                "UNSUPPORTED_VERSION",
                &format!(
                    "X-API-Version {v} is not supported ({} to {}).",
                    app.min_version, app.current_version
                ),
            );
        }
    }
    let not_found = || {
        error(
            404,
            "RESOURCE_NOT_FOUND",
            &format!("The resource {path} was not found."),
        )
    };
    match (method, segs.as_slice()) {
        ("DELETE", ["rest", "login-sessions"]) => {
            if let Some(a) = auth {
                app.sessions.remove(a);
            }
            Answer {
                status: 204,
                headers: Vec::new(),
                body: String::new(),
            }
        }
        ("GET", ["rest", "server-hardware"]) => {
            let members = (0..app.servers.len()).map(|i| app.server_json(i)).collect();
            answer(
                200,
                Appliance::collection(
                    "server-hardware-list-3",
                    "server-hardware",
                    members,
                    "/rest/server-hardware",
                ),
            )
        }
        ("GET", ["rest", "server-hardware", id]) => match app.server_index(id) {
            Some(i) => answer(200, app.server_json(i)),
            None => not_found(),
        },
        ("GET", ["rest", "server-hardware", id, "utilization"]) => match app.server_index(id) {
            Some(i) => answer(200, app.utilization(i)),
            None => not_found(),
        },
        ("GET", ["rest", "server-hardware", id, "remoteConsoleUrl"]) => {
            match app.server_index(id) {
                Some(i) => {
                    let key = app.token();
                    app.counter += 1;
                    let sid = app.counter;
                    let s = &mut app.servers[i];
                    s.ilo_sessions.insert(key.clone(), sid);
                    *lock(&shared.ilo_sessions_opened) += 1;
                    answer(
                        200,
                        json!({"remoteConsoleUrl": format!("hplocons://addr=127.0.0.1:{}&sessionkey={key}", s.ilo_port)}),
                    )
                }
                None => not_found(),
            }
        }
        ("PUT", ["rest", "server-hardware", id, "powerState"]) => {
            let Some(i) = app.server_index(id) else {
                return not_found();
            };
            let state = body
                .as_ref()
                .and_then(|b| b["powerState"].as_str())
                .unwrap_or("");
            let control = body
                .as_ref()
                .and_then(|b| b.get("powerControl"))
                .and_then(Value::as_str)
                .unwrap_or("MomentaryPress");
            if !matches!(state, "On" | "Off")
                || !matches!(
                    control,
                    "MomentaryPress" | "PressAndHold" | "ColdBoot" | "Reset"
                )
            {
                return error(
                    400,
                    "INVALID_PARAMETER",
                    "powerState must be On or Off; powerControl MomentaryPress, PressAndHold, ColdBoot or Reset.",
                );
            }
            if app.servers[i].transition.is_some() {
                return error(
                    409,
                    "CONFLICT",
                    "A power operation is already in progress on this server hardware.",
                );
            }
            let s = &mut app.servers[i];
            let on = state == "On";
            let reset = on && matches!(control, "ColdBoot" | "Reset") && s.on;
            s.transition = match (s.on, on, reset) {
                (_, true, true) => Some("Resetting"),
                (false, true, _) => Some("PoweringOn"),
                (true, false, _) => Some("PoweringOff"),
                _ => None,
            };
            let uri = format!("/rest/server-hardware/{id}");
            let name = if on { "Power on" } else { "Power off" };
            app.start_task(
                name,
                Effect::Power {
                    server: i,
                    on,
                    reset,
                },
                uri,
                "server-hardware",
                now,
            )
        }
        ("GET", ["rest", "server-profiles"]) => {
            let members = app.profiles.values().map(|p| p.body.clone()).collect();
            answer(
                200,
                Appliance::collection(
                    "ServerProfileListV9",
                    "server-profiles",
                    members,
                    "/rest/server-profiles",
                ),
            )
        }
        ("GET", ["rest", "server-profiles", id]) => match app.profiles.get(*id) {
            Some(p) => answer(200, p.body.clone()),
            None => not_found(),
        },
        ("PUT", ["rest", "server-profiles", id]) => {
            let Some(p) = app.profiles.get(*id) else {
                return not_found();
            };
            let Some(Value::Object(mut new)) = body else {
                return error(
                    400,
                    "INVALID_PARAMETER",
                    "The request body is not a server profile.",
                );
            };
            // What the appliance owns stays.
            for k in ["uri", "uuid", "serverHardwareUri", "category", "type"] {
                new.insert(k.to_owned(), p.body[k].clone());
            }
            let order_ok = new
                .get("boot")
                .and_then(|b| b.get("order"))
                .and_then(Value::as_array)
                .is_none_or(|o| {
                    o.iter().all(|d| {
                        matches!(
                            d.as_str(),
                            Some("CD" | "Floppy" | "USB" | "HardDisk" | "PXE")
                        )
                    })
                });
            if !order_ok {
                return error(
                    400,
                    "INVALID_PARAMETER",
                    "boot.order may hold CD, Floppy, USB, HardDisk and PXE only.",
                );
            }
            let uri = format!("/rest/server-profiles/{id}");
            app.start_task(
                "Update",
                Effect::PutProfile {
                    uuid: (*id).to_owned(),
                    body: Value::Object(new),
                },
                uri,
                "server-profiles",
                now,
            )
        }
        ("DELETE", ["rest", "server-profiles", id]) => {
            if !app.profiles.contains_key(*id) {
                return not_found();
            }
            let uri = format!("/rest/server-profiles/{id}");
            app.start_task(
                "Delete",
                Effect::DeleteProfile {
                    uuid: (*id).to_owned(),
                },
                uri,
                "server-profiles",
                now,
            )
        }
        ("POST", ["rest", "server-profiles"]) => {
            let Some(b) = body.filter(Value::is_object) else {
                return error(
                    400,
                    "INVALID_PARAMETER",
                    "The request body is not a server profile.",
                );
            };
            let hw = b["serverHardwareUri"].as_str().unwrap_or("");
            let Some(i) = hw
                .strip_prefix("/rest/server-hardware/")
                .and_then(|id| app.server_index(id))
            else {
                return error(
                    400,
                    "INVALID_PARAMETER",
                    "serverHardwareUri names no server hardware.",
                );
            };
            if app.servers[i].profile.is_some()
                || app.tasks.values().any(|t| !t.settled && matches!(&t.effect, Some(Effect::CreateProfile { server, .. }) if *server == i))
            {
                return error(400, "SERVER_HARDWARE_ALREADY_ASSIGNED", "A server profile is already assigned to this server hardware.");
            }
            if b["serverHardwareTypeUri"]
                .as_str()
                .is_some_and(|t| t != app.servers[i].sht_uri)
            {
                return error(
                    400,
                    "INVALID_PARAMETER",
                    "The profile's serverHardwareTypeUri does not match the server hardware.",
                );
            }
            if b["name"].as_str().is_none_or(str::is_empty) {
                return error(400, "INVALID_PARAMETER", "The profile needs a name.");
            }
            let uuid = app.fresh_id();
            let stored = app.stored_profile(&uuid, b, i);
            let uri = format!("/rest/server-profiles/{uuid}");
            app.start_task(
                "Create",
                Effect::CreateProfile {
                    uuid,
                    server: i,
                    body: stored,
                },
                uri,
                "server-profiles",
                now,
            )
        }
        ("GET", ["rest", "server-profile-templates"]) => {
            let members = app.templates.clone();
            answer(
                200,
                Appliance::collection(
                    "ServerProfileTemplateListV1",
                    "server-profile-templates",
                    members,
                    "/rest/server-profile-templates",
                ),
            )
        }
        ("GET", ["rest", "server-profile-templates", id]) => {
            let uri = format!("/rest/server-profile-templates/{id}");
            match app.templates.iter().find(|t| t["uri"] == uri.as_str()) {
                Some(t) => answer(200, t.clone()),
                None => not_found(),
            }
        }
        ("GET", ["rest", "server-profile-templates", id, "new-profile"]) => {
            let uri = format!("/rest/server-profile-templates/{id}");
            match app.templates.iter().find(|t| t["uri"] == uri.as_str()) {
                Some(t) => answer(200, Appliance::new_profile(t)),
                None => not_found(),
            }
        }
        ("GET", ["rest", "tasks", id]) => {
            let t = app.task_json(id, now);
            if t.is_null() {
                not_found()
            } else {
                answer(200, t)
            }
        }
        _ => not_found(),
    }
}

const ILO_SUPPORTED: [&str; 10] = [
    "None",
    "Cd",
    "Hdd",
    "Usb",
    "Utilities",
    "Diags",
    "BiosSetup",
    "Pxe",
    "UefiShell",
    "UefiTarget",
];

fn ilo_ok() -> Answer {
    answer(
        200,
        json!({"Messages": [{"MessageID": "Base.0.10.Success"}], "Type": "ExtendedError.1.0.0", "Name": "Extended Error Information"}),
    )
}

fn ilo(
    shared: &Shared,
    app: &mut Appliance,
    i: usize,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let Some(s) = app.servers.get_mut(i) else {
        return answer(404, json!({}));
    };
    let Some(token) = token.filter(|t| s.ilo_sessions.contains_key(*t)) else {
        return answer(
            401,
            json!({"Messages": [{"MessageID": "Base.0.10.NoValidSession"}], "Type": "ExtendedError.1.0.0"}),
        );
    };
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match (method, segs.as_slice()) {
        ("GET", ["rest", "v1", "Systems"]) => answer(
            200,
            json!({
                "Type": "Collection.1.0.0",
                "MemberType": "ComputerSystem.1",
                "Total": 1,
                "Name": "Computer Systems",
                "links": {"Member": [{"href": "/rest/v1/Systems/1"}], "self": {"href": "/rest/v1/Systems"}}
            }),
        ),
        ("GET", ["rest", "v1", "Systems", "1"]) => answer(
            200,
            json!({
                "Type": "ComputerSystem.1.0.1",
                "Id": "1",
                "Name": "Computer System",
                "Power": if s.on { "On" } else { "Off" },
                "PowerState": if s.on { "On" } else { "Off" },
                "Boot": {
                    "BootSourceOverrideEnabled": if s.ilo_once.is_some() { "Once" } else { "Disabled" },
                    "BootSourceOverrideTarget": s.ilo_once.clone().unwrap_or_else(|| "None".into()),
                    "BootSourceOverrideSupported": ILO_SUPPORTED,
                },
                "HostCorrelation": {"HostMACAddress": s.macs, "HostName": "", "IPAddress": [""]},
                "links": {"self": {"href": "/rest/v1/Systems/1"}}
            }),
        ),
        ("PATCH", ["rest", "v1", "Systems", "1"]) => {
            let boot = body.as_ref().and_then(|b| b.get("Boot"));
            let Some(boot) = boot else {
                return answer(
                    400,
                    json!({"Messages": [{"MessageID": "Base.0.10.MalformedJSON"}]}),
                );
            };
            let enabled = boot
                .get("BootSourceOverrideEnabled")
                .and_then(Value::as_str);
            let target = boot.get("BootSourceOverrideTarget").and_then(Value::as_str);
            if let Some(t) = target
                && !ILO_SUPPORTED.contains(&t)
            {
                return answer(
                    400,
                    json!({"Messages": [{"MessageID": "Base.0.10.PropertyValueNotInList", "MessageArgs": [t, "BootSourceOverrideTarget"]}]}),
                );
            }
            match enabled {
                Some("Disabled") => s.ilo_once = None,
                Some("Once" | "Continuous") => match target.or(s.ilo_once.as_deref()) {
                    Some("None") | None => s.ilo_once = None,
                    Some(t) => s.ilo_once = Some(t.to_owned()),
                },
                None => {
                    if let Some(t) = target {
                        s.ilo_once = (t != "None").then(|| t.to_owned());
                    }
                }
                Some(other) => {
                    return answer(
                        400,
                        json!({"Messages": [{"MessageID": "Base.0.10.PropertyValueNotInList", "MessageArgs": [other, "BootSourceOverrideEnabled"]}]}),
                    );
                }
            }
            ilo_ok()
        }
        ("GET", ["rest", "v1", "sessions"]) => {
            let members: Vec<Value> = s
                .ilo_sessions
                .values()
                .map(|id| json!({"href": format!("/rest/v1/sessions/{id}")}))
                .collect();
            answer(
                200,
                json!({
                    "Type": "Collection.1.0.0",
                    "MemberType": "Session.1",
                    "Total": members.len(),
                    "links": {"Member": members, "self": {"href": "/rest/v1/sessions"}}
                }),
            )
        }
        ("GET", ["rest", "v1", "sessions", id]) => {
            let found = s.ilo_sessions.iter().find(|(_, v)| v.to_string() == *id);
            match found {
                Some((key, v)) => answer(
                    200,
                    json!({
                        "Type": "Session.1.0.0",
                        "Id": v.to_string(),
                        "Name": "User Session",
                        "Oem": {"Hp": {"MySession": key == token, "UserAccount": "oneview", "AccessTime": "2017-09-18T22:05:00Z"}},
                        "links": {"self": {"href": format!("/rest/v1/sessions/{v}")}}
                    }),
                ),
                None => answer(
                    404,
                    json!({"Messages": [{"MessageID": "Base.0.10.ResourceMissingAtURI"}]}),
                ),
            }
        }
        ("DELETE", ["rest", "v1", "sessions", id]) => {
            let key = s
                .ilo_sessions
                .iter()
                .find(|(_, v)| v.to_string() == *id)
                .map(|(k, _)| k.clone());
            match key {
                Some(k) => {
                    s.ilo_sessions.remove(&k);
                    *lock(&shared.ilo_sessions_closed) += 1;
                    ilo_ok()
                }
                None => answer(
                    404,
                    json!({"Messages": [{"MessageID": "Base.0.10.ResourceMissingAtURI"}]}),
                ),
            }
        }
        _ => answer(
            404,
            json!({"Messages": [{"MessageID": "Base.0.10.ResourceMissingAtURI"}]}),
        ),
    }
}
