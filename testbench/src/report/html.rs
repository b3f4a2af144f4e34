//! Small helpers for the pages: escaping, and JSON embedded in a page.

use serde_json::Value;

/// Text made safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text that can stand inside `<script type="application/json">`:
/// every `<` (which only occurs inside strings) is written `\u003c`, so no
/// `</script>` in the data can end the element.
pub fn embed_json(value: &Value) -> String {
    serde_json::to_string(value)
        .expect("JSON serializes")
        .replace('<', "\\u003c")
}

/// Fills a page template's `{{NAME}}` slots; text put in is never read
/// again as a slot.
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut page = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        page.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}").map(|close| (&after[..close], close)) {
            Some((name, close)) if slots.iter().any(|(n, _)| *n == name) => {
                let text = slots.iter().find(|(n, _)| *n == name).map_or("", |s| s.1);
                page.push_str(text);
                rest = &after[close + 2..];
            }
            _ => {
                page.push_str("{{");
                rest = after;
            }
        }
    }
    page.push_str(rest);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_its_script() {
        let text = embed_json(&serde_json::json!({"body": "</script><b>"}));
        assert!(!text.contains('<'));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["body"], "</script><b>");
        assert_eq!(
            escape(r#"<a href="x">&"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
        assert_eq!(
            fill("{{A}} and {{B}}, {{C}}", &[("A", "{{B}}"), ("B", "2")]),
            "{{B}} and 2, {{C}}"
        );
    }
}
