//! `--config FILE` (or `HAVIP_CONFIG`): settings from a TOML file, below the environment and
//! the command line. Keys are the flags' long names; top-level keys are the global flags, and
//! a table per command holds that command's flags:
//!
//! ```toml
//! log-format = "json"
//! [serve]
//! listen = "0.0.0.0:3000"
//! data-dir = "/var/lib/havip"
//! [agent]
//! interface = "eth0"
//! ```
//!
//! Each value becomes the flag's `HAVIP_*` variable unless that is already set, before the
//! command line is read, so the order is: flag, then environment, then file, then default.
//! An unknown key or table is an error (a typo never silently does nothing).

use clap::CommandFactory;
use std::ffi::OsString;
use std::path::PathBuf;

/// The file named by `--config FILE`, `--config=FILE` or `HAVIP_CONFIG`.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("HAVIP_CONFIG").map(PathBuf::from)
}

/// The `HAVIP_*` variables the file sets (those not set already), checked against the flags.
pub fn settings(command: &clap::Command, text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let mut out = vec![];
    for (key, value) in table {
        match value {
            toml::Value::Table(section) => {
                let sub = command.find_subcommand(&key).ok_or_else(|| {
                    format!(
                        "[{key}] is not a command (commands: {})",
                        names(command.get_subcommands().map(|c| c.get_name().to_string()))
                    )
                })?;
                for (key, value) in section {
                    out.push(setting(
                        sub,
                        &format!("[{}] ", sub.get_name()),
                        &key,
                        &value,
                    )?);
                }
            }
            value => out.push(setting(command, "", &key, &value)?),
        }
    }
    Ok(out)
}

fn names(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn setting(
    command: &clap::Command,
    section: &str,
    key: &str,
    value: &toml::Value,
) -> Result<(String, String), String> {
    let with_env = || {
        command
            .get_arguments()
            .filter(|a| a.get_env().is_some() && a.get_long().is_some())
    };
    let arg = with_env()
        .find(|a| a.get_long() == Some(key))
        .ok_or_else(|| {
            format!(
                "{section}has no setting `{key}` (settings: {})",
                names(with_env().map(|a| a.get_long().unwrap_or_default().to_string()))
            )
        })?;
    let one = |value: &toml::Value| match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(x) => Ok(x.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!(
            "{section}`{key}` must be a string, a number or true/false"
        )),
    };
    let text = match (value, arg.get_value_delimiter()) {
        // a flag that takes a list (`server = ["https://a", "https://b"]`)
        (toml::Value::Array(items), Some(delimiter)) => items
            .iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()?
            .join(&delimiter.to_string()),
        _ => one(value)?,
    };
    let env = arg
        .get_env()
        .expect("filtered")
        .to_string_lossy()
        .into_owned();
    Ok((env, text))
}

/// Reads the configuration file, if one is named, into the environment. Runs before anything
/// else (no other thread exists yet, so setting variables is safe).
pub fn apply<P: CommandFactory>(args: &[OsString]) -> Result<(), String> {
    let Some(path) = config_path(args) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the configuration {}: {e}", path.display()))?;
    let settings = settings(&P::command(), &text)
        .map_err(|e| format!("configuration {}: {e}", path.display()))?;
    for (name, value) in settings {
        if std::env::var_os(&name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        crate::command::Cli::command()
    }

    #[test]
    fn keys_are_the_flags_of_their_command() {
        let text = "log-format = \"json\"\n[serve]\nlisten = \"127.0.0.1:4000\"\nquota = 20\nallow-private-webhooks = true\nmax-connections = 64\n[agent]\ninterface = \"eth1\"\n";
        let mut got = settings(&command(), text).unwrap();
        got.sort();
        assert_eq!(
            got,
            [
                (
                    "HAVIP_ALLOW_PRIVATE_WEBHOOKS".to_string(),
                    "true".to_string()
                ),
                ("HAVIP_INTERFACE".into(), "eth1".into()),
                ("HAVIP_LISTEN".into(), "127.0.0.1:4000".into()),
                ("HAVIP_LOG_FORMAT".into(), "json".into()),
                ("HAVIP_MAX_CONNECTIONS".into(), "64".into()),
                ("HAVIP_QUOTA".into(), "20".into()),
            ]
        );
    }

    #[test]
    fn a_flag_that_takes_a_list_takes_an_array() {
        let text = "[agent]\nserver = [\"https://a:3000\", \"https://b:3000\"]\n";
        assert_eq!(
            settings(&command(), text).unwrap(),
            [(
                "HAVIP_SERVER".to_string(),
                "https://a:3000,https://b:3000".to_string()
            )]
        );
    }

    #[test]
    fn typos_and_odd_values_are_refused_with_what_is_valid() {
        let e = settings(&command(), "[serve]\nlisten-on = \"x\"\n").unwrap_err();
        assert!(e.starts_with("[serve] has no setting `listen-on`"), "{e}");
        assert!(e.contains("data-dir"), "{e}");
        let e = settings(&command(), "[sevre]\nlisten = \"x\"\n").unwrap_err();
        assert!(e.contains("[sevre] is not a command"), "{e}");
        let e = settings(&command(), "[serve]\nlisten = [1, 2]\n").unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let e = settings(&command(), "[agent]\nserver = [[\"x\"]]\n").unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        assert!(
            settings(&command(), "listen = \"x\"\n").is_err(),
            "serve's flags go in [serve]"
        );
        assert!(settings(&command(), "[serve\n").is_err());
    }

    #[test]
    fn the_file_is_named_by_the_flag_or_the_environment() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            config_path(&args(&["havip", "serve", "--config", "/a.toml"])),
            Some("/a.toml".into())
        );
        assert_eq!(
            config_path(&args(&["havip", "--config=/b.toml", "serve"])),
            Some("/b.toml".into())
        );
    }
}
