//! The text of preview-tower's Jira comments: ADF for Jira Cloud (REST v3), wiki markup for
//! Data Center (REST v2), and the marker that finds them again.
//!
//! Pure. The PR title is untrusted: in ADF it is one plain text node (no marks, so it can
//! carry no link); in wiki markup every character that could open a link, macro, mention,
//! image or line break is replaced or escaped. Preview and PR URLs come from our own
//! configuration and GitHub and are trusted, but are still kept from breaking the markup.

use serde_json::{Value, json};

use super::{Event, Note};

/// Longest PR title written into a comment, in characters; longer titles end with `…`.
pub const MAX_TITLE_CHARS: usize = 200;

impl Note {
    /// The text that identifies preview-tower's comment for this event of this PR, e.g.
    /// `[preview-tower:ready:acme/web#42]`. The repository is lower-cased (GitHub names are
    /// case-insensitive) so a change of case does not make a second comment. It is the last
    /// paragraph of every comment, as plain text in ADF and with its brackets escaped in wiki
    /// markup (escaped there as `\[...\]`).
    pub fn marker(&self) -> String {
        format!(
            "[preview-tower:{}:{}#{}]",
            self.event.as_str(),
            self.repo.to_string().to_ascii_lowercase(),
            self.number
        )
    }
}

/// [`Note::marker`] as it appears in wiki markup: `\[…\]`, so Jira shows brackets rather than
/// trying to read a link.
pub(crate) fn wiki_marker(note: &Note) -> String {
    note.marker().replace('[', "\\[").replace(']', "\\]")
}

/// The comment body for Jira Cloud (`POST /rest/api/3/issue/{key}/comment` takes
/// `{"body": <this>}`): an ADF `doc` with the headline paragraph, a bullet list of the
/// previews (service: link for Ready, service names for Gone) and the marker in italics.
pub fn render_adf(note: &Note) -> Value {
    let mut intro = vec![
        text("Preview environments for "),
        link(&pr_label(note), &note.pr_url),
    ];
    // Brackets become parentheses: a title must not carry a marker (`[preview-tower:…]`)
    // that would make the issue look as if it had heard this note already.
    let title: String = clean_title(&note.title)
        .chars()
        .map(|c| match c {
            '[' => '(',
            ']' => ')',
            c => c,
        })
        .collect();
    if !title.is_empty() {
        intro.push(text(&format!(" “{title}”")));
    }
    intro.push(text(headline_end(note)));
    let mut content = vec![paragraph(intro)];
    if !note.previews.is_empty() {
        let items: Vec<Value> = note
            .previews
            .iter()
            .map(|p| {
                let line = match note.event {
                    Event::Ready => vec![text(&format!("{}: ", p.service)), link(&p.url, &p.url)],
                    Event::Gone => vec![text(p.service.as_str())],
                };
                json!({"type": "listItem", "content": [paragraph(line)]})
            })
            .collect();
        content.push(json!({"type": "bulletList", "content": items}));
    }
    content.push(paragraph(vec![json!({
        "type": "text",
        "text": note.marker(),
        "marks": [{"type": "em"}],
    })]));
    json!({"type": "doc", "version": 1, "content": content})
}

/// The comment body for Jira Data Center (`POST /rest/api/2/issue/{key}/comment` takes
/// `{"body": "<this>"}`): the same content in wiki markup, links as `[text|url]`.
pub fn render_wiki(note: &Note) -> String {
    let mut out = format!(
        "Preview environments for [{}|{}]",
        pr_label(note),
        wiki_url(&note.pr_url)
    );
    let title = wiki_title(&note.title);
    if !title.is_empty() {
        out.push_str(&format!(" “{title}”"));
    }
    out.push_str(headline_end(note));
    out.push('\n');
    for preview in &note.previews {
        match note.event {
            Event::Ready => out.push_str(&format!(
                "* {}: [{}]\n",
                preview.service,
                wiki_url(&preview.url)
            )),
            Event::Gone => out.push_str(&format!("* {}\n", preview.service)),
        }
    }
    out.push('\n');
    out.push_str(&wiki_marker(note));
    out
}

/// `acme/web#42`. Repository names are `[A-Za-z0-9._-]` (checked by `RepoName`), which
/// cannot open a link or a macro in either format.
fn pr_label(note: &Note) -> String {
    format!("{}#{}", note.repo, note.number)
}

fn headline_end(note: &Note) -> &'static str {
    match (note.event, note.previews.is_empty()) {
        (Event::Ready, false) => " are ready:",
        (Event::Ready, true) => " are ready.",
        (Event::Gone, false) => " have been removed:",
        (Event::Gone, true) => " have been removed.",
    }
}

fn text(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn link(label: &str, href: &str) -> Value {
    json!({"type": "text", "text": label, "marks": [{"type": "link", "attrs": {"href": href}}]})
}

fn paragraph(content: Vec<Value>) -> Value {
    json!({"type": "paragraph", "content": content})
}

/// The title on one line: whitespace and control characters become single spaces, invisible
/// direction and zero-width characters go, and it is cut to [`MAX_TITLE_CHARS`].
fn clean_title(title: &str) -> String {
    let invisible = |c: char| matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
    let visible: String = title.chars().filter(|c| !invisible(*c)).collect();
    let one_line = visible
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.chars().count() <= MAX_TITLE_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(MAX_TITLE_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The title made inert in wiki markup: link, macro, table and line-break characters
/// (`[ ] { } | \`) become look-alike plain ones, effect characters (`* _ ^ ~ + - ? ! #`) are
/// backslash-escaped, and a zero-width space after every `:` keeps Jira from turning
/// `http://…` or `mailto:…` into a link.
fn wiki_title(title: &str) -> String {
    let mut out = String::new();
    for c in clean_title(title).chars() {
        match c {
            '[' | '{' => out.push('('),
            ']' | '}' => out.push(')'),
            '|' | '\\' => out.push('/'),
            '*' | '_' | '^' | '~' | '+' | '-' | '?' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            ':' => out.push_str(":\u{200B}"),
            c => out.push(c),
        }
    }
    out
}

/// A trusted URL made safe inside `[…]` / `[text|…]`: the characters that would end the
/// link or the line are percent-encoded.
fn wiki_url(url: &str) -> String {
    let mut out = String::new();
    for c in url.chars() {
        match c {
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            '|' => out.push_str("%7C"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            ' ' => out.push_str("%20"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::issues::NotePreview;
    use crate::naming::ServiceName;

    fn note(event: Event) -> Note {
        let preview = |service: &str| NotePreview {
            service: ServiceName::new(service).unwrap(),
            url: format!("https://{service}-pr-42.preview.example.com/"),
        };
        Note {
            event,
            repo: "Acme/web-app".parse().unwrap(),
            number: 42,
            title: "Fix the login form".to_owned(),
            pr_url: "https://github.com/Acme/web-app/pull/42".to_owned(),
            previews: vec![preview("web"), preview("api")],
        }
    }

    const NASTY: &str = "Fix [evil|http://x] {code}boom{code}\n\nh1. big\r\n[~admin] !http://x/p.png! *b* \\\\ a\u{202E}b";

    #[test]
    fn markers_differ_by_event_and_ignore_repo_case() {
        let ready = note(Event::Ready);
        let gone = note(Event::Gone);
        assert_eq!(ready.marker(), "[preview-tower:ready:acme/web-app#42]");
        assert_eq!(gone.marker(), "[preview-tower:gone:acme/web-app#42]");
        assert_eq!(
            wiki_marker(&ready),
            "\\[preview-tower:ready:acme/web-app#42\\]"
        );
    }

    #[test]
    fn adf_ready() {
        insta::assert_json_snapshot!("adf_ready", render_adf(&note(Event::Ready)));
    }

    #[test]
    fn adf_gone_without_previews() {
        let mut gone = note(Event::Gone);
        gone.previews.clear();
        insta::assert_json_snapshot!("adf_gone_without_previews", render_adf(&gone));
    }

    #[test]
    fn wiki_ready() {
        insta::assert_snapshot!("wiki_ready", render_wiki(&note(Event::Ready)));
    }

    #[test]
    fn wiki_gone() {
        insta::assert_snapshot!("wiki_gone", render_wiki(&note(Event::Gone)));
    }

    #[test]
    fn a_title_cannot_carry_a_marker() {
        let mut forged = note(Event::Ready);
        forged.title = format!("ABC-1 {}", note(Event::Ready).marker());
        let adf = render_adf(&forged).to_string();
        assert_eq!(
            adf.matches("[preview-tower:").count(),
            1,
            "only our own: {adf}"
        );
        let wiki = render_wiki(&forged);
        assert_eq!(wiki.matches("preview-tower:ready").count(), 1, "{wiki}");
    }

    #[test]
    fn wiki_title_cannot_open_links_macros_or_lines() {
        let mut nasty = note(Event::Ready);
        nasty.title = NASTY.to_owned();
        let wiki = render_wiki(&nasty);
        insta::assert_snapshot!("wiki_nasty_title", wiki);
        let first_line = wiki.lines().next().unwrap();
        let title = first_line.split('“').nth(1).unwrap();
        for bad in ["[", "]", "{", "}", "|", "http://", "\u{202E}"] {
            assert!(!title.contains(bad), "{bad:?} in {title:?}");
        }
        assert_eq!(wiki.lines().count(), 5);
    }

    #[test]
    fn adf_title_is_one_plain_text_node() {
        let mut nasty = note(Event::Ready);
        nasty.title = NASTY.to_owned();
        let adf = render_adf(&nasty);
        insta::assert_json_snapshot!("adf_nasty_title", adf);
        let title_node = &adf["content"][0]["content"][2];
        assert!(title_node.get("marks").is_none());
        assert!(!title_node["text"].as_str().unwrap().contains('\n'));
    }

    #[test]
    fn long_titles_are_cut() {
        let long = "é".repeat(MAX_TITLE_CHARS * 3);
        let cut = clean_title(&long);
        assert_eq!(cut.chars().count(), MAX_TITLE_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(clean_title(" \n\t "), "");
    }

    #[test]
    fn empty_title_leaves_no_quotes() {
        let mut untitled = note(Event::Ready);
        untitled.title = "\n".to_owned();
        assert!(!render_wiki(&untitled).contains('“'));
        assert_eq!(
            render_adf(&untitled)["content"][0]["content"][2]["text"],
            " are ready:"
        );
    }

    #[test]
    fn urls_cannot_end_a_wiki_link() {
        assert_eq!(wiki_url("https://x/a b|c]d\n"), "https://x/a%20b%7Cc%5Dd");
    }
}
