//! The credential file format: versioned JSON, one file per credential.
//!
//! `version` is the major format version; additions that older readers can
//! ignore do not change it. A file with a newer version is refused, never
//! rewritten. Fields this version does not know are kept on rewrite. Error
//! messages about a file never quote its content: it holds secrets.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::name::{CredentialId, Name};
use crate::store::StoreError;
use crate::token::{Credential, Entry, Metadata};

pub const FORMAT_VERSION: u64 = 1;

#[derive(Serialize)]
struct FileOut<'a> {
    version: u64,
    provider: &'a Name,
    account: &'a Name,
    credential: &'a Credential,
    metadata: &'a Metadata,
    #[serde(flatten)]
    unknown: &'a Map<String, Value>,
}

#[derive(Deserialize)]
struct FileIn {
    version: u64,
    provider: Name,
    account: Name,
    credential: Credential,
    metadata: Metadata,
    #[serde(flatten)]
    unknown: Map<String, Value>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

pub fn encode(entry: &Entry) -> Result<Vec<u8>, serde_json::Error> {
    let mut unknown = entry.unknown.clone();
    // Never let a kept field shadow one we write.
    for key in ["version", "provider", "account", "credential", "metadata"] {
        unknown.remove(key);
    }
    let file = FileOut {
        version: FORMAT_VERSION,
        provider: &entry.id.provider,
        account: &entry.id.account,
        credential: &entry.credential,
        metadata: &entry.metadata,
        unknown: &unknown,
    };
    let mut bytes = serde_json::to_vec_pretty(&file)?;
    bytes.push(b'\n');
    Ok(bytes)
}

pub fn decode(bytes: &[u8], path: &Path, id: &CredentialId) -> Result<Entry, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        id: Some(id.clone()),
        reason,
    };
    if bytes.is_empty() {
        return Err(corrupt("the file is empty (0 bytes)".into()));
    }
    let known = |version: u64| match version {
        0 => Err(corrupt("format version 0 does not exist".into())),
        v if v > FORMAT_VERSION => Err(StoreError::FutureVersion {
            path: path.to_path_buf(),
            found: v,
            supported: FORMAT_VERSION,
        }),
        _ => Ok(()),
    };
    // One parse when the file is good; a second only to tell a newer
    // format from a broken file.
    let file: FileIn = match serde_json::from_slice(bytes) {
        Ok(file) => file,
        Err(e) => {
            let version = serde_json::from_slice::<VersionOnly>(bytes)
                .map_err(|e| corrupt(describe(&e)))?
                .version;
            known(version)?;
            return Err(corrupt(describe(&e)));
        }
    };
    known(file.version)?;
    if file.provider != id.provider || file.account != id.account {
        return Err(corrupt(format!(
            "it holds {}/{} but its name says {}/{}",
            file.provider, file.account, id.provider, id.account
        )));
    }
    Ok(Entry {
        id: id.clone(),
        credential: file.credential,
        metadata: file.metadata,
        unknown: file.unknown,
    })
}

/// Describes a parse error without quoting the file: serde's messages can
/// include string values, and those may be tokens.
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "truncated JSON".to_string(),
        Category::Syntax => "invalid JSON".to_string(),
        Category::Io => "read error".to_string(),
        Category::Data => {
            let msg = e.to_string();
            if msg.starts_with("missing field") || msg.starts_with("unknown variant") {
                msg.split(" at line").next().unwrap_or("").to_string()
            } else {
                "a field has the wrong type".to_string()
            }
        }
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::token::StaticToken;
    use chrono::{DateTime, Utc};

    fn id() -> CredentialId {
        CredentialId::new(
            "acme".parse().expect("name"),
            "default".parse().expect("name"),
        )
    }

    fn entry() -> Entry {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("time");
        Entry::login(
            id(),
            Credential::Static(StaticToken {
                token: Secret::new("sk-secret-value".into()),
                expires_at: None,
                obtained_at: now,
                rejected_at: None,
                unknown: Map::new(),
            }),
            None,
            now,
        )
    }

    #[test]
    fn round_trips_and_keeps_unknown_fields_at_every_level() {
        let mut value: Value =
            serde_json::from_slice(&encode(&entry()).expect("encode")).expect("json");
        value["from_the_future"] = Value::from(1);
        value["credential"]["audience"] = Value::from("api");
        value["metadata"]["label"] = Value::from("laptop");
        let bytes = serde_json::to_vec(&value).expect("json");

        let decoded = decode(&bytes, Path::new("f.json"), &id()).expect("decode");
        let again: Value =
            serde_json::from_slice(&encode(&decoded).expect("encode")).expect("json");
        assert_eq!(again["from_the_future"], 1);
        assert_eq!(again["credential"]["audience"], "api");
        assert_eq!(again["metadata"]["label"], "laptop");
        assert_eq!(again["version"], 1);
    }

    #[test]
    fn a_newer_major_version_is_refused() {
        let mut value: Value =
            serde_json::from_slice(&encode(&entry()).expect("encode")).expect("json");
        value["version"] = Value::from(2);
        let bytes = serde_json::to_vec(&value).expect("json");
        let err = decode(&bytes, Path::new("f.json"), &id()).expect_err("refused");
        assert!(matches!(err, StoreError::FutureVersion { found: 2, .. }));
        // Also when the newer format no longer parses as this one.
        value["credential"] = serde_json::json!({ "kind": "quantum" });
        value.as_object_mut().expect("object").remove("metadata");
        let bytes = serde_json::to_vec(&value).expect("json");
        let err = decode(&bytes, Path::new("f.json"), &id()).expect_err("refused");
        assert!(
            matches!(err, StoreError::FutureVersion { found: 2, .. }),
            "{err}"
        );
        // And a version 0 file is corrupt, whatever its shape.
        value["version"] = Value::from(0);
        let bytes = serde_json::to_vec(&value).expect("json");
        let err = decode(&bytes, Path::new("f.json"), &id()).expect_err("refused");
        assert!(err.to_string().contains("format version 0"), "{err}");
    }

    #[test]
    fn errors_never_quote_the_content() {
        let bytes = br#"{"version":1,"provider":"acme","account":"default","credential":{"kind":"static","token":{"sk-secret-value":1}}}"#;
        let err = decode(bytes, Path::new("f.json"), &id()).expect_err("corrupt");
        assert!(!err.to_string().contains("sk-secret-value"), "{err}");
        let err = decode(
            b"{\"version\":1, sk-secret-value",
            Path::new("f.json"),
            &id(),
        )
        .expect_err("corrupt");
        assert!(!err.to_string().contains("sk-secret-value"), "{err}");
    }

    #[test]
    fn a_file_holding_another_credential_is_refused() {
        let other = CredentialId::new("acme".parse().expect("n"), "work".parse().expect("n"));
        let err = decode(
            &encode(&entry()).expect("encode"),
            Path::new("f.json"),
            &other,
        )
        .expect_err("mismatch");
        assert!(matches!(err, StoreError::Corrupt { .. }));
    }
}
