//! The simulated appliance's state and its answers, as JSON built by hand here
//! (from PROTOCOLS.md §2.2 and the fixtures' shapes; nothing shared with the client).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use hwctl_sim::SessionGuard;
use serde_json::{Value, json};

/// One answer: status, extra headers, JSON (or raw) body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: String,
}

pub(super) fn answer(status: u16, body: Value) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

pub(super) fn error(status: u16, code: &str, message: &str) -> Answer {
    answer(
        status,
        json!({
            "errorCode": code,
            "message": message,
            "details": "",
            "recommendedActions": [],
            "errorSource": null,
            "nestedErrors": [],
            "data": {}
        }),
    )
}

#[derive(Debug, Clone)]
pub(super) struct SimServerState {
    pub(super) uuid: String,
    pub(super) name: String,
    pub(super) on: bool,
    /// `PoweringOn`, `PoweringOff` or `Resetting` while a power task runs.
    pub(super) transition: Option<&'static str>,
    pub(super) profile: Option<String>,
    pub(super) sht_uri: String,
    pub(super) eg_uri: String,
    pub(super) macs: [String; 2],
    pub(super) ilo_port: u16,
    /// iLO one-time boot target (`Pxe`, `Hdd`, `Cd`, `Usb`).
    pub(super) ilo_once: Option<String>,
    /// iLO sessions: key → session id.
    pub(super) ilo_sessions: BTreeMap<String, u64>,
    /// Every boot source the server started from (power on or reset).
    pub(super) boots: Vec<String>,
    pub(super) temperature: f64,
}

#[derive(Debug, Clone)]
pub(super) struct SimProfile {
    pub(super) body: Value,
}

#[derive(Debug, Clone)]
pub(super) enum Effect {
    Power {
        server: usize,
        on: bool,
        reset: bool,
    },
    PutProfile {
        uuid: String,
        body: Value,
    },
    CreateProfile {
        uuid: String,
        server: usize,
        body: Value,
    },
    DeleteProfile {
        uuid: String,
    },
}

#[derive(Debug, Clone)]
pub(super) struct SimTask {
    pub(super) uuid: String,
    pub(super) name: &'static str,
    pub(super) started: Instant,
    pub(super) done_at: Instant,
    pub(super) error: Option<(String, String)>,
    pub(super) effect: Option<Effect>,
    pub(super) resource_uri: String,
    pub(super) resource_category: &'static str,
    pub(super) settled: bool,
}

/// The whole appliance.
#[derive(Debug)]
pub(super) struct Appliance {
    pub(super) min_version: u32,
    pub(super) current_version: u32,
    pub(super) username: String,
    pub(super) password: String,
    pub(super) session_limit: usize,
    pub(super) sessions: HashMap<String, SessionGuard>,
    pub(super) servers: Vec<SimServerState>,
    pub(super) templates: Vec<Value>,
    pub(super) profiles: BTreeMap<String, SimProfile>,
    pub(super) tasks: HashMap<String, SimTask>,
    pub(super) task_duration: Duration,
    /// Error the next task ends with (code, message).
    pub(super) next_task_error: Option<(String, String)>,
    pub(super) counter: u64,
    pub(super) seed: u64,
    pub(super) tasks_started: u64,
}

pub(super) const SHT_URI: &str = "/rest/server-hardware-types/D30D027D-FEB9-46C7-A96A-C8B063AD09F2";
pub(super) const EG_URI: &str = "/rest/enclosure-groups/c02d2e96-6142-49d6-bd38-0ce9d371e94f";
pub(super) const OTHER_SHT_URI: &str =
    "/rest/server-hardware-types/934E00C0-45F0-4329-AA8C-A0864E834ED4";

impl Appliance {
    pub(super) fn fresh_id(&mut self) -> String {
        self.counter += 1;
        let x = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(self.counter.wrapping_mul(1442695040888963407));
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            (x >> 32) as u32,
            (x >> 16) as u16,
            (x & 0xfff) as u16,
            (self.counter & 0xfff) as u16,
            self.counter
        )
    }

    pub(super) fn token(&mut self) -> String {
        let a = self.fresh_id().replace('-', "");
        let b = self.fresh_id().replace('-', "");
        format!("{}{}", &a[..16], &b[b.len() - 16..])
    }

    pub(super) fn server_index(&self, uuid: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.uuid == uuid)
    }

    /// Applies every task whose time has come.
    pub(super) fn settle(&mut self, now: Instant) {
        let mut due: Vec<(Instant, String)> = self
            .tasks
            .values()
            .filter(|t| !t.settled && t.done_at <= now)
            .map(|t| (t.done_at, t.uuid.clone()))
            .collect();
        due.sort();
        for (_, id) in due {
            let Some(task) = self.tasks.get_mut(&id) else {
                continue;
            };
            task.settled = true;
            let ok = task.error.is_none();
            let effect = task.effect.take();
            match effect {
                Some(Effect::Power { server, on, reset }) => {
                    if let Some(s) = self.servers.get_mut(server) {
                        s.transition = None;
                        if ok {
                            let was_on = s.on;
                            s.on = on;
                            if on && (!was_on || reset) {
                                let source = match s.ilo_once.take() {
                                    Some(t) => t,
                                    None => self
                                        .profiles
                                        .values()
                                        .find(|p| {
                                            p.body["serverHardwareUri"]
                                                == format!("/rest/server-hardware/{}", s.uuid)
                                        })
                                        .and_then(|p| p.body["boot"]["order"][0].as_str())
                                        .unwrap_or("HardDisk")
                                        .to_owned(),
                                };
                                s.boots.push(source);
                            }
                        }
                    }
                }
                Some(Effect::PutProfile { uuid, body }) if ok => {
                    if let Some(p) = self.profiles.get_mut(&uuid) {
                        p.body = body;
                    }
                }
                Some(Effect::CreateProfile { uuid, server, body }) if ok => {
                    let uri = format!("/rest/server-profiles/{uuid}");
                    if let Some(s) = self.servers.get_mut(server) {
                        s.profile = Some(uri);
                    }
                    self.profiles.insert(uuid, SimProfile { body });
                }
                Some(Effect::DeleteProfile { uuid }) if ok => {
                    let uri = format!("/rest/server-profiles/{uuid}");
                    for s in &mut self.servers {
                        if s.profile.as_deref() == Some(uri.as_str()) {
                            s.profile = None;
                        }
                    }
                    self.profiles.remove(&uuid);
                }
                _ => {}
            }
        }
    }

    /// Starts a task; answers 202 with `Location` and the task.
    pub(super) fn start_task(
        &mut self,
        name: &'static str,
        effect: Effect,
        resource_uri: String,
        resource_category: &'static str,
        now: Instant,
    ) -> Answer {
        let uuid = self.fresh_id();
        self.tasks_started += 1;
        let error = self.next_task_error.take();
        let task = SimTask {
            uuid: uuid.clone(),
            name,
            started: now,
            done_at: now + self.task_duration,
            error,
            effect: Some(effect),
            resource_uri,
            resource_category,
            settled: false,
        };
        self.tasks.insert(uuid.clone(), task);
        if self.tasks.len() > 10_000 {
            // Forget the oldest settled tasks (the appliance keeps a bounded history).
            let mut settled: Vec<(Instant, String)> = self
                .tasks
                .values()
                .filter(|t| t.settled)
                .map(|t| (t.started, t.uuid.clone()))
                .collect();
            settled.sort();
            for (_, id) in settled.into_iter().take(5_000) {
                self.tasks.remove(&id);
            }
        }
        self.settle(now);
        let body = self.task_json(&uuid, now);
        Answer {
            status: 202,
            headers: vec![("location", format!("/rest/tasks/{uuid}"))],
            body: body.to_string(),
        }
    }

    pub(super) fn task_json(&self, uuid: &str, now: Instant) -> Value {
        let Some(t) = self.tasks.get(uuid) else {
            return Value::Null;
        };
        let total = t.done_at.saturating_duration_since(t.started).as_secs_f64();
        let spent = now.saturating_duration_since(t.started).as_secs_f64();
        let (state, percent) = if t.settled {
            if t.error.is_some() {
                ("Error", 100)
            } else {
                ("Completed", 100)
            }
        } else {
            let pct = if total > 0.0 {
                ((spent / total) * 100.0).min(99.0) as u32
            } else {
                99
            };
            ("Running", pct)
        };
        let errors = match &t.error {
            Some((code, msg)) if t.settled => json!([{
                "errorCode": code,
                "message": msg,
                "details": "",
                "data": {},
                "errorSource": t.resource_uri,
                "nestedErrors": [],
                "recommendedActions": []
            }]),
            _ => json!([]),
        };
        json!({
            "type": "TaskResourceV2",
            "category": "tasks",
            "uri": format!("/rest/tasks/{uuid}"),
            "name": t.name,
            "owner": "Administrator",
            "taskState": state,
            "taskStatus": if state == "Error" { "Failed" } else { t.name },
            "percentComplete": percent,
            "computedPercentComplete": percent,
            "taskErrors": errors,
            "taskType": "User",
            "associatedResource": {
                "resourceUri": t.resource_uri,
                "resourceCategory": t.resource_category,
                "resourceName": t.resource_uri.rsplit('/').next().unwrap_or(""),
                "associationType": "MANAGED_BY"
            },
            "stateReason": null,
            "eTag": "2"
        })
    }

    pub(super) fn server_json(&self, i: usize) -> Value {
        let s = &self.servers[i];
        let state = match (&s.profile, s.transition) {
            (Some(_), _) => "ProfileApplied",
            (None, _) => "NoProfileApplied",
        };
        let power = match s.transition {
            Some(t) => t,
            None if s.on => "On",
            None => "Off",
        };
        json!({
            "type": "server-hardware-5",
            "name": s.name,
            "state": state,
            "stateReason": "NotApplicable",
            "category": "server-hardware",
            "uri": format!("/rest/server-hardware/{}", s.uuid),
            "uuid": s.uuid,
            "status": "OK",
            "powerState": power,
            "powerLock": false,
            "serverProfileUri": s.profile,
            "serverHardwareTypeUri": s.sht_uri,
            "serverGroupUri": s.eg_uri,
            "model": "ProLiant BL460c Gen9",
            "shortModel": "BL460c Gen9",
            "formFactor": "HalfHeight",
            "position": i + 1,
            "locationUri": "/rest/enclosures/09SGH102X6J1",
            "mpModel": "iLO4",
            "mpIpAddress": "127.0.0.1",
            "mpFirmwareVersion": "2.30 Jul 23 2015",
            "memoryMb": 8192,
            "processorCount": 2,
            "processorCoreCount": 4,
            "processorSpeedMhz": 2400,
            "processorType": "Intel(R) Xeon(R) CPU E5620 @ 2.40GHz",
            "romVersion": "I36 v1.30 08/26/2014",
            "serialNumber": format!("SIM{:07}", i + 1),
            "refreshState": "NotRefreshing",
            "licensingIntent": "OneView",
            "eTag": "1455803026048",
            "portMap": {
                "deviceSlots": [{
                    "deviceName": "HP FlexFabric 10Gb 2-port 554FLB Adapter",
                    "deviceNumber": 9,
                    "location": "Flb",
                    "slotNumber": 1,
                    "physicalPorts": [
                        {
                            "interconnectPort": i + 1, "mac": s.macs[0], "portNumber": 1, "type": "Ethernet",
                            "virtualPorts": [{"mac": s.macs[0], "portFunction": "a", "portNumber": 1,
                                              "currentAllocatedVirtualFunctionCount": -1, "wwnn": null, "wwpn": null}]
                        },
                        {
                            "interconnectPort": i + 1, "mac": s.macs[1], "portNumber": 2, "type": "Ethernet",
                            "virtualPorts": []
                        }
                    ]
                }]
            }
        })
    }

    pub(super) fn collection(kind: &str, category: &str, members: Vec<Value>, uri: &str) -> Value {
        let n = members.len();
        json!({
            "type": kind,
            "category": category,
            "members": members,
            "start": 0,
            "count": n,
            "total": n,
            "prevPageUri": null,
            "nextPageUri": null,
            "uri": uri,
            "created": null,
            "modified": null,
            "eTag": null
        })
    }

    pub(super) fn template(uuid: &str, name: &str, sht: &str) -> Value {
        json!({
            "type": "ServerProfileTemplateV1",
            "uri": format!("/rest/server-profile-templates/{uuid}"),
            "name": name,
            "description": "",
            "serverProfileDescription": "",
            "serverHardwareTypeUri": sht,
            "enclosureGroupUri": EG_URI,
            "affinity": "Bay",
            "hideUnusedFlexNics": true,
            "macType": "Physical",
            "wwnType": "Physical",
            "serialNumberType": "Physical",
            "firmware": {"manageFirmware": false, "forceInstallFirmware": false, "firmwareBaselineUri": null},
            "connections": [{
                "id": 1, "name": "deploy", "functionType": "Ethernet",
                "networkUri": "/rest/ethernet-networks/b4a0663d-9160-4566-96b3-1b00745c8115",
                "portId": "Flb 1:1-a", "requestedMbps": "2500", "boot": {"priority": "Primary"}
            }],
            "bootMode": {"manageMode": true, "mode": "BIOS", "pxeBootPolicy": null},
            "boot": {"manageBoot": true, "order": ["HardDisk", "PXE", "CD", "USB"]},
            "bios": {"manageBios": false, "overriddenSettings": []},
            "localStorage": {"controllers": []},
            "sanStorage": {"manageSanStorage": false, "volumeAttachments": []},
            "category": "server-profile-templates",
            "status": "OK",
            "state": null,
            "eTag": "1452631233382/1"
        })
    }

    /// `GET …/new-profile`: the template turned into a profile body to POST.
    pub(super) fn new_profile(template: &Value) -> Value {
        json!({
            "type": "ServerProfileV9",
            "name": "",
            "description": "",
            "category": "server-profiles",
            "serverHardwareUri": null,
            "serverProfileTemplateUri": template["uri"],
            "serverHardwareTypeUri": template["serverHardwareTypeUri"],
            "enclosureGroupUri": template["enclosureGroupUri"],
            "affinity": template["affinity"],
            "hideUnusedFlexNics": template["hideUnusedFlexNics"],
            "macType": template["macType"],
            "wwnType": template["wwnType"],
            "serialNumberType": template["serialNumberType"],
            "firmware": template["firmware"],
            "connectionSettings": {"connections": template["connections"], "manageConnections": true},
            "bootMode": template["bootMode"],
            "boot": template["boot"],
            "bios": template["bios"],
            "localStorage": template["localStorage"],
            "sanStorage": template["sanStorage"],
            "iscsiInitiatorNameType": "AutoGenerated"
        })
    }

    /// A profile as stored: the posted body with the appliance's fields.
    pub(super) fn stored_profile(&self, uuid: &str, mut body: Value, server: usize) -> Value {
        let s = &self.servers[server];
        if let Some(o) = body.as_object_mut() {
            o.insert("uri".into(), json!(format!("/rest/server-profiles/{uuid}")));
            o.insert("uuid".into(), json!(uuid));
            o.insert("type".into(), json!("ServerProfileV9"));
            o.insert("category".into(), json!("server-profiles"));
            o.insert("status".into(), json!("OK"));
            o.insert("state".into(), json!("Normal"));
            o.insert("inProgress".into(), json!(false));
            o.insert(
                "serverHardwareUri".into(),
                json!(format!("/rest/server-hardware/{}", s.uuid)),
            );
            o.insert(
                "connections".into(),
                json!([{
                    "id": 1, "functionType": "Ethernet", "deploymentStatus": "Deployed",
                    "portId": "Flb 1:1-a", "macType": "Physical", "mac": s.macs[0],
                    "boot": {"priority": "Primary"}
                }]),
            );
            if !o.get("boot").is_some_and(Value::is_object) {
                o.insert(
                    "boot".into(),
                    json!({"manageBoot": true, "order": ["HardDisk", "PXE"]}),
                );
            }
            o.insert("eTag".into(), json!("1450007350645/7"));
        }
        body
    }

    pub(super) fn utilization(&self, i: usize) -> Value {
        let s = &self.servers[i];
        let power = if s.on { 212.0 } else { 9.0 };
        json!({
            "metricList": [
                {"metricName": "AmbientTemperature", "metricSamples": [[1505772000000u64, s.temperature]], "metricCapacity": 35},
                {"metricName": "AveragePower", "metricSamples": [[1505772000000u64, power]], "metricCapacity": 450},
                {"metricName": "PeakPower", "metricSamples": [[1505772000000u64, power + 18.0]], "metricCapacity": 450},
                {"metricName": "CpuUtilization", "metricSamples": [[1505772000000u64, if s.on { 7 } else { 0 }]], "metricCapacity": 100}
            ],
            "refreshTaskUri": null,
            "oldestSampleTime": "2017-07-24T15:10:00.000Z",
            "newestSampleTime": "2017-09-18T22:05:00.000Z",
            "sliceStartTime": "2017-09-17T22:05:00.000Z",
            "sliceEndTime": "2017-09-18T22:05:00.000Z",
            "isFresh": true,
            "resolution": 300000,
            "uri": format!("/rest/server-hardware/{}", s.uuid)
        })
    }
}
