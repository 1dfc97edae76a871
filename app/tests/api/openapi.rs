//! docs/openapi.yaml says what the service does: its character rule for `message` (the
//! pattern generated clients and schema tests use) is the one the service applies.

use app::routes::{InputError, parse_message};

fn message_pattern() -> regex::Regex {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml"))
            .unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let pattern = doc["components"]["schemas"]["NewMessage"]["properties"]["message"]["pattern"]
        .as_str()
        .expect("the message schema has a pattern");
    regex::Regex::new(pattern).unwrap()
}

#[test]
fn the_schemas_pattern_and_the_service_agree_on_every_character() {
    let pattern = message_pattern();
    let mut checked = 0;
    for code in (0..=0x10FFFF_u32).filter(|c| *c < 0x3000 || *c >= 0xFF00 || c % 61 == 0) {
        let Some(c) = char::from_u32(code) else {
            continue; // surrogates are not characters; JSON cannot carry them alone either
        };
        let message = format!("a{c}b");
        let body = serde_json::json!({ "message": message }).to_string();
        let service = match parse_message(Some("application/json"), body.as_bytes()) {
            Ok(_) => true,
            Err(InputError::ForbiddenCharacter(_)) => false,
            Err(other) => panic!("U+{code:04X}: {other}"),
        };
        assert_eq!(
            pattern.is_match(&message),
            service,
            "U+{code:04X}: the schema and the service disagree"
        );
        checked += 1;
    }
    assert!(checked > 30_000);
    assert!(!pattern.is_match(""), "minLength 1 and the pattern agree");
}
