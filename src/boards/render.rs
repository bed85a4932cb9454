//! Rendering helpers shared by the boards' pure `render` functions.
//!
//! Ad text arrives as plain text; boards get HTML or text built from it, with
//! section headings in the ad's own language.

use crate::intake::message::{EmploymentType, LocalizedAd, primary_language};

use super::BoardError;

/// Section headings in the ad's language (English where we have no translation).
pub struct Headings {
    pub responsibilities: &'static str,
    pub requirements: &'static str,
    pub benefits: &'static str,
}

pub fn headings(locale: &str) -> Headings {
    let (responsibilities, requirements, benefits) = match primary_language(locale) {
        "es" => ("Responsabilidades", "Requisitos", "Ofrecemos"),
        "de" => ("Ihre Aufgaben", "Ihr Profil", "Wir bieten"),
        "fr" => ("Missions", "Profil recherché", "Avantages"),
        "el" => ("Αρμοδιότητες", "Απαιτούμενα προσόντα", "Παροχές"),
        "pt" => ("Responsabilidades", "Requisitos", "Oferecemos"),
        _ => ("Responsibilities", "Requirements", "Benefits"),
    };
    Headings {
        responsibilities,
        requirements,
        benefits,
    }
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production,
/// https://www.w3.org/TR/xml/#charsets): tab, newline, carriage return and
/// everything from U+0020 except U+FFFE and U+FFFF (Rust chars hold no
/// surrogates). The same C0 controls are parse errors in HTML
/// (https://html.spec.whatwg.org/#preprocessing-the-input-stream).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= '\u{20}' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// `text` without the characters XML 1.0 forbids (a vertical tab or NUL in
/// an ad would make a shared feed ill-formed for every tenant: issue 12).
pub fn xml_chars(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

/// Escapes text for HTML element content and attribute values; characters
/// XML forbids are dropped (HTML goes into XML feeds, in CDATA).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            _ if !is_xml_char(c) => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `<ul><li>…</li></ul>`, or nothing for an empty list.
pub fn html_list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut html = String::from("<ul>");
    for item in items {
        html.push_str("<li>");
        html.push_str(&escape_html(item));
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    html
}

/// A titled list section, or nothing for an empty list.
pub fn html_section(heading: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!("<h3>{}</h3>{}", escape_html(heading), html_list(items))
}

/// The whole ad as one HTML description: summary, then each section.
pub fn html_description(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut html = format!("<p>{}</p>", escape_html(&ad.summary));
    html.push_str(&html_section(titles.responsibilities, &ad.responsibilities));
    html.push_str(&html_section(titles.requirements, &ad.requirements));
    html.push_str(&html_section(titles.benefits, &ad.benefits));
    html
}

/// The number of characters (not bytes) in `text`.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Enforces a documented length limit: the posting fails with the rule named,
/// never silently truncated.
pub fn check_max(board: &str, field: &str, text: &str, max: usize) -> Result<(), BoardError> {
    let length = chars(text);
    if length > max {
        return super::preview::broken(format!(
            "{field} is {length} characters; {board} allows {max}"
        ));
    }
    Ok(())
}

pub fn check_min(board: &str, field: &str, text: &str, min: usize) -> Result<(), BoardError> {
    let length = chars(text);
    if length < min {
        return super::preview::broken(format!(
            "{field} is {length} characters; {board} needs at least {min}"
        ));
    }
    Ok(())
}

/// The English word most boards' enumerations start from.
pub fn employment_type_name(kind: EmploymentType) -> &'static str {
    match kind {
        EmploymentType::FullTime => "full_time",
        EmploymentType::PartTime => "part_time",
        EmploymentType::Contract => "contract",
        EmploymentType::Temporary => "temporary",
        EmploymentType::Internship => "internship",
        EmploymentType::Volunteer => "volunteer",
        EmploymentType::Other => "other",
    }
}

/// `text` as an XML CDATA section; a `]]>` inside is split across two
/// sections, the one sequence CDATA cannot hold. Characters XML forbids
/// (no escape can carry them) are dropped.
pub fn cdata(text: &str) -> String {
    format!(
        "<![CDATA[{}]]>",
        xml_chars(text).replace("]]>", "]]]]><![CDATA[>")
    )
}

/// `<name><![CDATA[text]]></name>`.
pub fn cdata_element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", cdata(text))
}

/// Escapes text for XML element content and attribute values; characters
/// XML forbids are dropped.
pub fn escape_xml(text: &str) -> String {
    quick_xml::escape::escape(xml_chars(text).as_ref()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ad() -> LocalizedAd {
        LocalizedAd {
            title: "T".into(),
            summary: "Sell <things> & more".into(),
            responsibilities: vec!["Call".into()],
            requirements: vec![],
            benefits: vec!["Pay".into()],
        }
    }

    #[test]
    fn description_escapes_and_skips_empty_sections() {
        assert_eq!(
            html_description(&ad(), "en"),
            "<p>Sell &lt;things&gt; &amp; more</p><h3>Responsibilities</h3><ul><li>Call</li></ul><h3>Benefits</h3><ul><li>Pay</li></ul>"
        );
    }

    #[test]
    fn headings_follow_the_language() {
        assert_eq!(headings("de").requirements, "Ihr Profil");
        assert_eq!(headings("pt-BR").benefits, "Oferecemos");
        assert_eq!(headings("nl").benefits, "Benefits");
    }

    /// Issue 12, finding 3: a vertical tab (or any C0 control) in an ad
    /// never reaches a document; a strict XML 1.0 parser reads every writer.
    #[test]
    fn characters_xml_forbids_never_reach_a_document() {
        let hostile = "Account Manager\u{b}\u{0}\u{1f}\u{fffe}\u{ffff} ]]> <b>&\t\n";
        let description = html_description(
            &LocalizedAd {
                summary: hostile.into(),
                responsibilities: vec![hostile.into()],
                ..ad()
            },
            "en",
        );
        let document = format!(
            "<r a=\"{}\">{}{}{}</r>",
            escape_xml(hostile),
            cdata_element("title", hostile),
            escape_xml(hostile),
            cdata(&description),
        );
        let parsed = roxmltree::Document::parse(&document).unwrap_or_else(|e| panic!("{e}"));
        let title = parsed
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .unwrap();
        assert_eq!(title.text(), Some("Account Manager ]]> <b>&\t\n"));
        assert_eq!(xml_chars("Στέλεχος\u{b}"), "Στέλεχος");
        assert!(matches!(xml_chars("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn limits_count_characters_and_name_the_rule() {
        assert!(check_max("X", "title", "Στέλεχος", 8).is_ok());
        let error = check_max("Monster", "title", &"a".repeat(132), 100).unwrap_err();
        assert_eq!(error.message, "title is 132 characters; Monster allows 100");
    }
}
