//! Secrets off the command line (issue 15 item 3).
//!
//! A hardware type's secret properties (`ipmi_password`, `msftocs_password`,
//! `sasl_password`, …: those `hwctl properties TYPE` marks secret) can come, besides
//! the info file and `--info` (argv: visible in `/proc/PID/cmdline` and `ps`), from:
//!
//! 1. `--password-file PATH` (or `HW_PASSWORD_FILE=PATH`): the file's whole content,
//!    one trailing newline removed, is the hardware type's secret (with several, as
//!    IPMI's password and Kg key, its one `*_password` key). It overrides the
//!    info file; the same key also given by `--info` is a usage error. With
//!    `fleet` the file is everyone's login password, the fallback of each entry:
//!    it fills a node's password only where the entry gives none (or Ironic's
//!    mask) and `HW_<KEY>` is unset, and only where the entry gives the user name
//!    it goes with (`sasl_username` for `sasl_password`; an entry without one does
//!    not log in with a password); a node whose type has no user name
//!    (Wake-on-LAN's SecureOn password) gets it only if its entry names the key,
//!    and one whose type has no secret (fake-hardware) gets nothing.
//! 2. `HW_<KEY>`: an environment variable per secret key, the key upper-cased with
//!    `HW_` before it (`HW_IPMI_PASSWORD`, `HW_MSFTOCS_PASSWORD`, `HW_SASL_PASSWORD`).
//!    It fills a key the info file and flags left out, or gave as Ironic's mask
//!    `******` (an export without its secret).
//! 3. A prompt on the terminal (echo off), when stdin is a terminal and a *required*
//!    secret is still missing, or for any missing secret with `--ask-password`.
//!
//! Values never appear in an error: messages name the key, the variable or the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use hwctl_core::{Error, Property, Result};
use serde_json::Value;

use crate::inventory::InventoryNode;

/// What Ironic prints instead of a secret (`openstack baremetal node show`).
pub(crate) use hwctl_core::driver_info::IRONIC_MASK;

/// The longest secret file read (a password file, not a key store).
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// The environment variable that holds `key`: `HW_` and the key upper-cased, every
/// character other than a letter or digit as `_` (`ipmi_password` → `HW_IPMI_PASSWORD`).
pub(crate) fn env_name(key: &str) -> String {
    let mut name = String::from("HW_");
    name.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

/// Asks on the terminal with a prompt.
pub(crate) type Prompt<'a> = &'a dyn Fn(&str) -> Result<String>;

/// Where secrets come from besides the info file and `--info`.
pub(crate) struct Sources<'a> {
    /// `--password-file`.
    pub password_file: Option<&'a Path>,
    /// `--ask-password`: prompt for optional secrets too.
    pub ask: bool,
    /// The keys `--info` gave.
    pub flag_keys: Vec<&'a str>,
    /// The password file is shared by many nodes of several types (`fleet`): it
    /// stands for a login password, so it fills a node only when its entry gives
    /// the user name the password goes with (`ipmi_username` for `ipmi_password`)
    /// or, for a type with no such name, names the secret key itself.
    /// Wake-on-LAN's optional SecureOn password is not a login and stays empty
    /// unless the entry asks for it.
    pub shared_file: bool,
    /// Reads an environment variable (`None` when unset).
    pub env: &'a dyn Fn(&str) -> Result<Option<String>>,
    /// Asks on the terminal with this prompt; `None` when stdin is not a terminal.
    pub prompt: Option<Prompt<'a>>,
}

/// Whether `node` lacks a usable value for `key` (absent, null, or Ironic's mask).
fn absent(node: &InventoryNode, key: &str) -> bool {
    match node.driver_info.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s == IRONIC_MASK,
        Some(_) => false,
    }
}

/// Fills `node`'s secret keys (the secret ones of `props`) from `src`, in the order
/// the module documents.
///
/// # Errors
///
/// `InvalidParameter` when `--password-file` cannot be read, is not UTF-8 text, is
/// over 64 KiB, names a key `--info` also gives, or the hardware type has neither a
/// single secret nor a single `*_password` secret; when an `HW_*` variable is not UTF-8; when `--ask-password` is given
/// without a terminal or the prompt cannot be read.
pub(crate) fn fill(node: &mut InventoryNode, props: &[Property], src: &Sources<'_>) -> Result<()> {
    let secrets = || props.iter().filter(|p| p.secret);
    if let Some(path) = src.password_file {
        let secrets: Vec<&Property> = secrets().collect();
        let key = match (secrets.as_slice(), password_file_key(props)) {
            (_, Some(key)) => key.to_owned(),
            // A fleet's file is everyone's login: a type without a secret
            // (fake-hardware) takes none, and the other entries still do.
            ([], _) if src.shared_file => return fill_from_env(node, props, src),
            ([], _) => {
                return Err(Error::invalid_parameter(
                    "--password-file",
                    format!("hardware type {} has no secret property", node.driver),
                ));
            }
            (many, _) => {
                return Err(Error::invalid_parameter(
                    "--password-file",
                    format!(
                        "hardware type {} has several secrets ({}); set them with {}",
                        node.driver,
                        many.iter()
                            .map(|p| p.name.as_ref())
                            .collect::<Vec<_>>()
                            .join(", "),
                        many.iter()
                            .map(|p| env_name(&p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        };
        if src.shared_file && !shared_file_applies(node, props, &key) {
            // Not this node's login: see `Sources::shared_file`.
        } else if src.shared_file && (!absent(node, &key) || (src.env)(&env_name(&key))?.is_some())
        {
            // A fleet's file is the fallback of every entry: the entry's own
            // password, or its key's `HW_<KEY>`, names this node's more closely.
        } else if src.flag_keys.contains(&key.as_str()) {
            return Err(Error::invalid_parameter(
                "--password-file",
                format!("{key} is also given by --info; give it once"),
            ));
        } else {
            let value = read_secret_file(path)?;
            node.driver_info.insert(key, Value::String(value));
        }
    }
    fill_from_env(node, props, src)
}

/// The secret key `--password-file` fills for a hardware type of `props`: its one
/// secret, or with several (IPMI's password and Kg key) its one `*_password` key,
/// since a password file holds a password; `None` when there is no such key.
pub(crate) fn password_file_key(props: &[Property]) -> Option<&str> {
    let mut secrets = props.iter().filter(|p| p.secret);
    let first = secrets.next()?;
    if secrets.next().is_none() {
        return Some(first.name.as_ref());
    }
    let mut passwords = props
        .iter()
        .filter(|p| p.secret && p.name.ends_with("_password"));
    match (passwords.next(), passwords.next()) {
        (Some(p), None) => Some(p.name.as_ref()),
        _ => None,
    }
}

/// Whether a fleet's shared password file is `node`'s password `key`: a login
/// password goes with its login name. Where the type has a user name paired with
/// `key` (`sasl_username` for `sasl_password`), only an entry that gives that name
/// logs in with a password (a lone `sasl_password` is refused by libvirt, a lone
/// `redfish_password` by Redfish, and an IPMI entry without `ipmi_username` is the
/// null user's). A type with no such name (Wake-on-LAN's SecureOn password) takes
/// it only where its entry names `key` (as Ironic's mask).
fn shared_file_applies(node: &InventoryNode, props: &[Property], key: &str) -> bool {
    let info = node.driver_info.as_map();
    let user = key
        .strip_suffix("_password")
        .map(|prefix| format!("{prefix}_username"))
        .filter(|user| props.iter().any(|p| p.name == user.as_str()));
    match user {
        Some(user) => match info.get(&user) {
            Some(Value::String(name)) => !name.is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        },
        None => info.contains_key(key),
    }
}

/// [`fill`]'s steps after the password file: `HW_<KEY>` for each secret still
/// absent, then the prompt (or `--ask-password`'s error) for a required one.
fn fill_from_env(node: &mut InventoryNode, props: &[Property], src: &Sources<'_>) -> Result<()> {
    let secrets = || props.iter().filter(|p| p.secret);
    for p in secrets() {
        if absent(node, &p.name)
            && let Some(v) = (src.env)(&env_name(&p.name))?
        {
            node.driver_info
                .insert(p.name.to_string(), Value::String(v));
        }
    }
    for p in secrets() {
        if !absent(node, &p.name) || !(p.required || src.ask) {
            continue;
        }
        match src.prompt {
            Some(prompt) => {
                let v = prompt(&format!("{} for {}: ", p.name, node.name))?;
                node.driver_info
                    .insert(p.name.to_string(), Value::String(v));
            }
            None if src.ask => {
                return Err(Error::invalid_parameter(
                    "--ask-password",
                    format!(
                        "stdin is not a terminal to ask for {} on; use --password-file or {}",
                        p.name,
                        env_name(&p.name)
                    ),
                ));
            }
            // Validation reports it missing, naming the ways to give it.
            None => {}
        }
    }
    Ok(())
}

/// Reads a password file: its whole content, one trailing `\n` or `\r\n` removed.
///
/// # Errors
///
/// `InvalidParameter` naming `--password-file` and the path (never the content):
/// unreadable, over 64 KiB, not UTF-8, or empty (nothing but the newline).
pub(crate) fn read_secret_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let bad = |why: String| {
        Error::invalid_parameter("--password-file", format!("{}: {why}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(bad(format!(
            "over {} KiB: not a password file",
            MAX_SECRET_FILE / 1024
        )));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| bad("is not UTF-8 text".into()))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        // An empty password would only reach the device as a wrong one, and the
        // error would then say no password was given: say it is the file.
        return Err(bad(
            "is empty: put the password in it (one trailing newline is removed)".into(),
        ));
    }
    Ok(text)
}

/// Reads `HW_*` from the process environment.
///
/// # Errors
///
/// `InvalidParameter` naming the variable when its value is not UTF-8.
pub(crate) fn process_env(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid_parameter(
            name.to_owned(),
            "is not UTF-8 text".to_owned(),
        )),
    }
}

/// What was typed at each prompt this run: one command that builds its node twice
/// (`boot prepare-ramdisk --rescue`) asks once.
static TYPED: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// Asks on the terminal (`/dev/tty`), echo off.
///
/// # Errors
///
/// `InvalidParameter` when the terminal cannot be read (closed, Ctrl-D).
pub(crate) fn terminal_prompt(prompt: &str) -> Result<String> {
    let mut typed = TYPED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = typed.get(prompt) {
        return Ok(v.clone());
    }
    let v = rpassword::prompt_password(prompt).map_err(|e| {
        Error::invalid_parameter(
            prompt.trim_end_matches([':', ' ']).to_owned(),
            format!("cannot be read from the terminal: {e}"),
        )
    })?;
    typed.insert(prompt.to_owned(), v.clone());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(name: &'static str, required: bool, secret: bool) -> Property {
        let p = if required {
            Property::required(name, "")
        } else {
            Property::optional(name, "")
        };
        if secret { p.secret() } else { p }
    }

    fn node(info: serde_json::Value) -> InventoryNode {
        InventoryNode {
            name: "n1".into(),
            driver: "ipmi".into(),
            driver_info: hwctl_core::DriverInfo::from_json(info).unwrap_or_default(),
            ..Default::default()
        }
    }

    fn no_env(_: &str) -> Result<Option<String>> {
        Ok(None)
    }

    /// An empty password file (or one holding only its newline) is refused as
    /// such, naming the file; a password in it is read without its newline.
    #[test]
    fn an_empty_password_file_is_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("hwctl-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        for (name, content) in [("empty", ""), ("newline", "\n"), ("crlf", "\r\n")] {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap_or_default();
            let err = read_secret_file(&path).err().map(|e| e.to_string());
            let err = err.unwrap_or_default();
            assert!(
                err.contains("--password-file") && err.contains("is empty"),
                "{err}"
            );
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
        let path = dir.join("pw");
        std::fs::write(&path, "s3cret\n").unwrap_or_default();
        assert_eq!(read_secret_file(&path).ok().as_deref(), Some("s3cret"));
        std::fs::remove_dir_all(&dir).unwrap_or_default();
    }

    /// The key `--password-file` fills, which `properties` and the argv warning
    /// name it for: the one secret, else the one `*_password` (IPMI's, not its Kg
    /// key), else none.
    #[test]
    fn the_password_file_fills_the_types_password_only() {
        let ipmi = [
            prop("ipmi_address", true, false),
            prop("ipmi_password", false, true),
            prop("ipmi_hex_kg_key", false, true),
        ];
        assert_eq!(password_file_key(&ipmi), Some("ipmi_password"));
        let wol = [prop("wol_secureon_password", false, true)];
        assert_eq!(password_file_key(&wol), Some("wol_secureon_password"));
        let two = [prop("a_key", false, true), prop("b_key", false, true)];
        assert_eq!(password_file_key(&two), None);
        assert_eq!(password_file_key(&[prop("x", true, false)]), None);
    }

    #[test]
    fn env_names_follow_one_scheme() {
        assert_eq!(env_name("ipmi_password"), "HW_IPMI_PASSWORD");
        assert_eq!(env_name("sasl_password"), "HW_SASL_PASSWORD");
        assert_eq!(env_name("a-b.c"), "HW_A_B_C");
    }

    #[test]
    fn env_fills_absent_and_masked_secrets_only() {
        let props = [
            prop("ipmi_address", true, false),
            prop("ipmi_password", false, true),
        ];
        let env = |name: &str| -> Result<Option<String>> {
            Ok(match name {
                "HW_IPMI_PASSWORD" => Some("from-env".into()),
                "HW_IPMI_ADDRESS" => Some("10.0.0.9".into()),
                _ => None,
            })
        };
        let src = Sources {
            password_file: None,
            ask: false,
            flag_keys: vec![],
            shared_file: false,
            env: &env,
            prompt: None,
        };
        for start in [json!({}), json!({"ipmi_password": "******"})] {
            let mut n = node(start);
            fill(&mut n, &props, &src).unwrap();
            assert_eq!(n.driver_info.as_map()["ipmi_password"], "from-env");
            // Only secrets come from HW_*.
            assert!(!n.driver_info.as_map().contains_key("ipmi_address"));
        }
        let mut n = node(json!({"ipmi_password": "given"}));
        fill(&mut n, &props, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["ipmi_password"], "given");
    }

    use serde_json::json;

    #[test]
    fn password_file_overrides_the_file_and_conflicts_with_info() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "S3cret-file\r\n").unwrap();
        let props = [prop("msftocs_password", true, true)];
        let mut src = Sources {
            password_file: Some(&path),
            ask: false,
            flag_keys: vec![],
            shared_file: false,
            env: &no_env,
            prompt: None,
        };
        let mut n = node(json!({"msftocs_password": "******"}));
        fill(&mut n, &props, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["msftocs_password"], "S3cret-file");

        src.flag_keys = vec!["msftocs_password"];
        let e = fill(&mut node(json!({"msftocs_password": "x"})), &props, &src).unwrap_err();
        assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
        assert!(!format!("{e} {e:?}").contains("S3cret"), "{e}");

        let e = fill(&mut node(json!({})), &[prop("a", true, false)], &src).unwrap_err();
        assert!(e.to_string().contains("no secret property"), "{e}");

        std::fs::write(&path, [0xff, 0xfe, b'S', b'3']).unwrap();
        src.flag_keys = vec![];
        let e = fill(&mut node(json!({})), &props, &src).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        let missing = dir.path().join("nope");
        src.password_file = Some(&missing);
        let e = fill(&mut node(json!({})), &props, &src).unwrap_err();
        assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
    }

    #[test]
    fn with_several_secrets_the_password_file_fills_the_password() {
        // IPMI has two secrets since ipmi_hex_kg_key: the file holds the password.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "S3cret-file\n").unwrap();
        let src = Sources {
            password_file: Some(&path),
            ask: false,
            flag_keys: vec![],
            shared_file: false,
            env: &no_env,
            prompt: None,
        };
        let props = [
            prop("ipmi_password", false, true),
            prop("ipmi_hex_kg_key", false, true),
        ];
        let mut n = node(json!({}));
        fill(&mut n, &props, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["ipmi_password"], "S3cret-file");
        assert!(!n.driver_info.as_map().contains_key("ipmi_hex_kg_key"));

        // Two secrets and no single password among them: which one is meant is unknown.
        let props = [prop("a_key", false, true), prop("b_key", false, true)];
        let e = fill(&mut node(json!({})), &props, &src).unwrap_err();
        assert!(e.to_string().contains("several secrets"), "{e}");
    }

    /// A fleet's password file is each entry's fallback (a newcomer's report: it
    /// replaced the passwords entries gave, and beat `HW_<KEY>`; one fake-hardware
    /// entry made the whole fleet fail). On the old code the first assertion saw
    /// the file's value.
    #[test]
    fn a_fleets_password_file_fills_only_what_entries_and_env_leave_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "S3cret-file\n").unwrap();
        let ocs = [
            prop("msftocs_username", true, false),
            prop("msftocs_password", true, true),
        ];
        let src = Sources {
            password_file: Some(&path),
            ask: false,
            flag_keys: vec![],
            shared_file: true,
            env: &no_env,
            prompt: None,
        };
        let mut n = node(json!({"msftocs_username": "admin", "msftocs_password": "own"}));
        fill(&mut n, &ocs, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["msftocs_password"], "own");
        for start in [
            json!({"msftocs_username": "admin"}),
            json!({"msftocs_username": "admin", "msftocs_password": IRONIC_MASK}),
        ] {
            let mut n = node(start);
            fill(&mut n, &ocs, &src).unwrap();
            assert_eq!(n.driver_info.as_map()["msftocs_password"], "S3cret-file");
        }
        // HW_<KEY> names this key more closely than the file everyone shares.
        let env = |name: &str| -> Result<Option<String>> {
            Ok((name == "HW_MSFTOCS_PASSWORD").then(|| "from-env".to_owned()))
        };
        let by_env = Sources { env: &env, ..src };
        let mut n = node(json!({}));
        fill(&mut n, &ocs, &by_env).unwrap();
        assert_eq!(n.driver_info.as_map()["msftocs_password"], "from-env");
        // A type without a secret takes nothing and is no error in a fleet.
        let fake = [prop("fake_delay", false, false)];
        let mut n = node(json!({}));
        fill(&mut n, &fake, &by_env).unwrap();
        assert!(n.driver_info.as_map().is_empty(), "{:?}", n.driver_info);
    }

    #[test]
    fn a_shared_password_file_fills_logins_only() {
        // Found by a newcomer run: in a mixed fleet, the BMC password file went into
        // Wake-on-LAN's SecureOn password and the WoL nodes failed.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "S3cret-file\n").unwrap();
        let src = Sources {
            password_file: Some(&path),
            ask: false,
            flag_keys: vec![],
            shared_file: true,
            env: &no_env,
            prompt: None,
        };
        let wol = [
            prop("wol_host", false, false),
            prop("wol_secureon_password", false, true),
        ];
        let mut n = node(json!({}));
        fill(&mut n, &wol, &src).unwrap();
        assert!(
            !n.driver_info.as_map().contains_key("wol_secureon_password"),
            "{:?}",
            n.driver_info
        );
        // An entry that names the key (Ironic's mask) asks for it.
        let mut n = node(json!({"wol_secureon_password": IRONIC_MASK}));
        fill(&mut n, &wol, &src).unwrap();
        assert_eq!(
            n.driver_info.as_map()["wol_secureon_password"],
            "S3cret-file"
        );
        // An entry that logs in gets it, its user name optional or not.
        let ipmi = [
            prop("ipmi_username", false, false),
            prop("ipmi_password", false, true),
            prop("ipmi_hex_kg_key", false, true),
        ];
        let mut n = node(json!({"ipmi_username": "admin"}));
        fill(&mut n, &ipmi, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["ipmi_password"], "S3cret-file");
        // One that gives no user name does not log in with it (found by a newcomer
        // run: the file became a libvirt entry's lone sasl_password, refused as
        // "missing sasl_username"; the old code filled both below).
        let libvirt = [
            prop("libvirt_uri", true, false),
            prop("sasl_username", false, false),
            prop("sasl_password", false, true),
        ];
        for (props, start) in [
            (&libvirt[..], json!({"libvirt_uri": "test:///default"})),
            (&ipmi[..], json!({"ipmi_username": ""})),
        ] {
            let mut n = node(start);
            fill(&mut n, props, &src).unwrap();
            assert!(
                !n.driver_info
                    .as_map()
                    .keys()
                    .any(|k| k.ends_with("_password")),
                "{:?}",
                n.driver_info
            );
        }
        let mut n = node(json!({"libvirt_uri": "test:///default", "sasl_username": "u"}));
        fill(&mut n, &libvirt, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["sasl_password"], "S3cret-file");
        // One node given the file on its own: the file is its secret.
        let single = Sources {
            shared_file: false,
            ..src
        };
        let mut n = node(json!({}));
        fill(&mut n, &wol, &single).unwrap();
        assert_eq!(
            n.driver_info.as_map()["wol_secureon_password"],
            "S3cret-file"
        );
    }

    #[test]
    fn prompts_only_for_required_secrets_unless_asked() {
        let props = [
            prop("ipmi_password", false, true),
            prop("msftocs_password", true, true),
        ];
        let asked = Mutex::new(Vec::new());
        let prompt = |p: &str| -> Result<String> {
            asked.lock().unwrap().push(p.to_owned());
            Ok("typed".into())
        };
        let mut src = Sources {
            password_file: None,
            ask: false,
            flag_keys: vec![],
            shared_file: false,
            env: &no_env,
            prompt: Some(&prompt),
        };
        let mut n = node(json!({}));
        fill(&mut n, &props, &src).unwrap();
        assert_eq!(*asked.lock().unwrap(), ["msftocs_password for n1: "]);
        assert!(!n.driver_info.as_map().contains_key("ipmi_password"));
        src.ask = true;
        let mut n = node(json!({}));
        fill(&mut n, &props, &src).unwrap();
        assert_eq!(n.driver_info.as_map()["ipmi_password"], "typed");
        // --ask-password without a terminal is an error; without it, validation
        // reports the key missing.
        src.prompt = None;
        let e = fill(&mut node(json!({})), &props, &src).unwrap_err();
        assert!(e.to_string().contains("not a terminal"), "{e}");
        src.ask = false;
        let mut n = node(json!({}));
        fill(&mut n, &props, &src).unwrap();
        assert!(n.driver_info.as_map().is_empty());
    }
}
