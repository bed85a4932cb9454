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

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
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
        return Err(BoardError::rule(format!(
            "{field} is {length} characters; {board} allows {max}"
        )));
    }
    Ok(())
}

pub fn check_min(board: &str, field: &str, text: &str, min: usize) -> Result<(), BoardError> {
    let length = chars(text);
    if length < min {
        return Err(BoardError::rule(format!(
            "{field} is {length} characters; {board} needs at least {min}"
        )));
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
/// sections, the one sequence CDATA cannot hold.
pub fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// `<name><![CDATA[text]]></name>`.
pub fn cdata_element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", cdata(text))
}

/// Escapes text for XML element content and attribute values.
pub fn escape_xml(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
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

    #[test]
    fn limits_count_characters_and_name_the_rule() {
        assert!(check_max("X", "title", "Στέλεχος", 8).is_ok());
        let error = check_max("Monster", "title", &"a".repeat(132), 100).unwrap_err();
        assert_eq!(error.message, "title is 132 characters; Monster allows 100");
    }
}
