//! "Did you mean" for misspelt options inside our own attributes
//! (`no_reply` of `#[handle]`, `ms` of `#[every]`). A misspelt attribute
//! name is rustc's to report.

/// The closest of `known` to `word`, when it is close enough to be a likely
/// slip: an edit distance of at most a third of the name (rounded up), or a synonym.
pub fn closest<'a>(word: &str, known: &[&'a str], synonyms: &[(&str, &'a str)]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    if let Some((_, meant)) = synonyms.iter().find(|(alias, _)| *alias == lower) {
        return Some(meant);
    }
    known
        .iter()
        .map(|candidate| (edit_distance(&lower, candidate), *candidate))
        .filter(|(distance, candidate)| *distance > 0 && *distance <= candidate.len().div_ceil(3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
        .or_else(|| {
            known
                .iter()
                .find(|c| **c == lower && lower != word)
                .copied()
        })
}

/// Levenshtein distance over bytes (attribute names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["no_reply"];

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(closest("no_replay", KNOWN, &[]), Some("no_reply"));
        assert_eq!(closest("noreply", KNOWN, &[]), Some("no_reply"));
        assert_eq!(closest("No_Reply", KNOWN, &[]), Some("no_reply"));
        assert_eq!(closest("millis", &["ms"], &[("millis", "ms")]), Some("ms"));
    }

    #[test]
    fn distant_names_are_not() {
        assert_eq!(closest("inline", KNOWN, &[]), None);
        assert_eq!(closest("timeout", KNOWN, &[]), None);
        assert_eq!(closest("no_reply", KNOWN, &[]), None);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
