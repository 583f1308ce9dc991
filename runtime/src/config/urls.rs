//! What the URL parsers of the PostgreSQL and ClickHouse settings share: parsing without echoing
//! a password, hosts, ports, percent-decoding.

use url::Url;

use super::*;

pub(super) fn parse_url(setting: &'static str, text: &str, expected: &'static str) -> Result<Url, ConfigError> {
    refuse_unescaped_password(setting, text)?;
    // `url`'s messages name the problem (`invalid port number`) without echoing the input,
    // which may hold a password.
    Url::parse(text.trim()).map_err(|error| match error {
        url::ParseError::InvalidPort => ConfigError::InvalidUrlPart {
            setting,
            problem: "has a port that is not a number from 1 to 65535".to_owned(),
        },
        other => ConfigError::InvalidUrl { setting, reason: other.to_string(), expected },
    })
}

/// A password with an unescaped `/`, `?` or `#` ends the URL's host part early: the rest of the
/// password would then be read as a port, a path (the database, shown in every log line's
/// address) or a query, and quoted in messages. The `@` that should have ended the credentials
/// is then still to come; no real database name, path or query holds one unescaped.
fn refuse_unescaped_password(setting: &'static str, text: &str) -> Result<(), ConfigError> {
    let Some((_, rest)) = text.trim().split_once("://") else { return Ok(()) };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if !rest[..authority_end].contains('@') && rest[authority_end..].contains('@') {
        return Err(ConfigError::UnescapedPassword { setting });
    }
    Ok(())
}

/// The URL's host without IPv6 brackets, `None` when empty.
pub(super) fn url_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain("") => None,
        url::Host::Domain(domain) => Some(domain.to_owned()),
        url::Host::Ipv4(address) => Some(address.to_string()),
        url::Host::Ipv6(address) => Some(address.to_string()),
    }
}

pub(super) fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

pub(super) fn parse_port(setting: &'static str, text: &str) -> Result<u16, ConfigError> {
    let invalid = || ConfigError::InvalidPort { setting };
    let port = text.trim().parse::<u16>().map_err(|_| invalid())?;
    check_port(setting, port).map_err(|_| invalid())
}

pub(super) fn check_port(setting: &'static str, port: u16) -> Result<u16, ConfigError> {
    if port == 0 {
        return Err(ConfigError::InvalidPort { setting });
    }
    Ok(port)
}

/// Decodes `%XX` escapes in a URL's user, password or database (`p%40ss` → `p@ss`).
pub(super) fn percent_decode(setting: &'static str, part: &str, text: &str) -> Result<String, ConfigError> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded).map_err(|_| ConfigError::InvalidUrlPart {
        setting,
        problem: format!("has a {part} that is not valid UTF-8 once percent-decoded"),
    })
}
