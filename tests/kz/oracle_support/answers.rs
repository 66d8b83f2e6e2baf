//! Recorded calls: what was asked, what was answered, what of it varies; recording them and replaying them.
use super::VARIES;
use super::fronts::{Front, Fronts, kz_headers};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// One recorded call: the request replayed and the answer it must get again.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Entry {
    /// What the call asks, for a person reading a mismatch.
    pub what: String,
    pub front: Front,
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    pub request: Value,
    pub status: u16,
    pub content_type: String,
    /// JSON pointers into the answer of the fields that change from call to call (replaced by [`VARIES`]
    /// before comparing); see the README of the fixtures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub varies: Vec<String>,
    /// The answer's text (a JSON answer, re-written only when `varies` names fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// A binary answer (PNG), in a file beside `answers.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_file: Option<String>,
}

/// The answer's text with the fields named by `varies` replaced by [`VARIES`]; unchanged when it names none.
pub fn normalise(text: &str, varies: &[String]) -> String {
    if varies.is_empty() {
        return text.to_owned();
    }
    let Ok(mut v) = serde_json::from_str::<Value>(text) else { return text.to_owned() };
    for pointer in varies {
        if let Some(slot) = v.pointer_mut(pointer) {
            *slot = json!(VARIES);
        }
    }
    v.to_string()
}

/// Makes calls against a running server and keeps each with its answer.
pub struct Recorder<'a> {
    pub fronts: &'a Fronts,
    pub entries: Vec<Entry>,
    /// Binary answers by file name.
    pub files: Vec<(String, Vec<u8>)>,
}

impl<'a> Recorder<'a> {
    pub fn new(fronts: &'a Fronts) -> Recorder<'a> {
        Recorder { fronts, entries: Vec::new(), files: Vec::new() }
    }

    /// Records one call; answers its JSON (null for a binary answer).
    pub async fn call(
        &mut self,
        what: &str,
        front: Front,
        path: &str,
        headers: BTreeMap<String, String>,
        request: Value,
        varies: &[&str],
    ) -> Value {
        let reply = self.fronts.send(front, path, &headers, &request).await;
        let varies: Vec<String> = varies.iter().map(|p| p.to_string()).collect();
        let mut entry = Entry {
            what: what.to_owned(),
            front,
            path: path.to_owned(),
            headers,
            request,
            status: reply.status,
            content_type: reply.content_type.clone(),
            varies,
            answer: None,
            answer_file: None,
        };
        let parsed = match String::from_utf8(reply.bytes.clone()) {
            Ok(text) if !reply.content_type.starts_with("image/") => {
                let parsed = serde_json::from_str(&text).unwrap_or(Value::Null);
                for pointer in &entry.varies {
                    assert!(parsed.pointer(pointer).is_some(), "{what}: the answer has no {pointer}: {text}");
                }
                entry.answer = Some(normalise(&text, &entry.varies));
                parsed
            }
            _ => {
                let name = format!("answers/{:03}.png", self.entries.len());
                self.files.push((name.clone(), reply.bytes));
                entry.answer_file = Some(name);
                Value::Null
            }
        };
        self.entries.push(entry);
        parsed
    }

    /// A Kazakh API call whose answer is compared whole.
    pub async fn kz(&mut self, what: &str, method: &str, pin: &str, request: Value) -> Value {
        self.kz_full(what, method, pin, None, request, &[]).await
    }

    /// A Kazakh API call with an optional idempotency key; `varies` as in [`Entry::varies`].
    pub async fn kz_full(
        &mut self,
        what: &str,
        method: &str,
        pin: &str,
        key: Option<&str>,
        request: Value,
        varies: &[&str],
    ) -> Value {
        self.call(what, Front::Kz, &format!("/{method}"), kz_headers(pin, key), request, varies).await
    }

    pub async fn by(&mut self, what: &str, message: Value) -> Value {
        self.call(what, Front::By, "/", BTreeMap::new(), message, &[]).await
    }

    pub async fn ua(&mut self, what: &str, envelope: Value) -> Value {
        self.call(what, Front::Ua, "/dm/execute", BTreeMap::new(), envelope, &[]).await
    }

    /// Writes `answers.json` and the binary answers into `fixture` (the old ones removed first).
    pub fn save(&self, fixture: &Path) {
        let answers = fixture.join("answers");
        if answers.exists() {
            std::fs::remove_dir_all(&answers).expect("remove old answers");
        }
        for (name, bytes) in &self.files {
            std::fs::create_dir_all(&answers).expect("answers folder");
            std::fs::write(fixture.join(name), bytes).expect("write a binary answer");
        }
        let text = serde_json::to_string_pretty(&self.entries).expect("JSON");
        std::fs::write(fixture.join("answers.json"), text + "\n").expect("write answers.json");
    }
}

/// The recorded calls of a fixture.
pub fn load(fixture: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(fixture.join("answers.json")).expect("answers.json");
    serde_json::from_str(&text).expect("answers.json holds entries")
}

/// Replays every recorded call in order and compares each answer with the recording; answers the
/// mismatches, each saying what differs. The answers got are written under `target/oracle-actual/<name>`.
pub async fn replay(fronts: &Fronts, fixture: &Path, entries: &[Entry]) -> Vec<String> {
    let name = fixture.file_name().and_then(|n| n.to_str()).unwrap_or("fixture");
    let actual_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/oracle-actual").join(name);
    let _ = std::fs::remove_dir_all(&actual_dir);
    std::fs::create_dir_all(actual_dir.join("answers")).expect("actual folder");
    let mut actual = Vec::new();
    let mut mismatches = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let reply = fronts.send(entry.front, &entry.path, &entry.headers, &entry.request).await;
        let mut got = Entry { status: reply.status, content_type: reply.content_type.clone(), ..entry.clone() };
        let mut problems = Vec::new();
        if reply.status != entry.status {
            problems.push(format!("HTTP status {} instead of {}", reply.status, entry.status));
        }
        if reply.content_type != entry.content_type {
            problems.push(format!("Content-Type {:?} instead of {:?}", reply.content_type, entry.content_type));
        }
        match (&entry.answer, &entry.answer_file) {
            (Some(expected), _) => {
                let text = String::from_utf8_lossy(&reply.bytes).into_owned();
                let text = normalise(&text, &entry.varies);
                if &text != expected {
                    problems.push(first_difference(expected, &text));
                }
                got.answer = Some(text);
            }
            (None, Some(file)) => {
                let expected = std::fs::read(fixture.join(file)).expect("a recorded binary answer");
                if reply.bytes != expected {
                    problems.push(format!(
                        "{} bytes differ from the {} recorded in {file}",
                        reply.bytes.len(),
                        expected.len()
                    ));
                }
                std::fs::write(actual_dir.join(file), &reply.bytes).expect("write an actual binary answer");
            }
            (None, None) => problems.push("the recording holds no answer".into()),
        }
        if !problems.is_empty() {
            mismatches.push(format!("#{i} {}: {}", entry.what, problems.join("; ")));
        }
        actual.push(got);
    }
    let text = serde_json::to_string_pretty(&actual).expect("JSON");
    std::fs::write(actual_dir.join("answers.json"), text + "\n").expect("write actual answers");
    mismatches
}

/// Where two texts first differ, with some context from each.
fn first_difference(expected: &str, got: &str) -> String {
    let at = expected.char_indices().zip(got.chars()).find(|((_, a), b)| a != b).map(|((i, _), _)| i);
    let at = at.unwrap_or(expected.len().min(got.len()));
    let from = expected[..at].char_indices().rev().nth(60).map_or(0, |(i, _)| i);
    let window = |s: &str| s.get(from..).unwrap_or("").chars().take(160).collect::<String>();
    format!("answer differs at byte {at}:\n    recorded: …{}\n    got:      …{}", window(expected), window(got))
}
