//! Identifiers and validated values as types: an invalid value cannot be constructed, and one
//! kind of id cannot be passed where another is meant. Each deserialises through its check
//! (`#[serde(try_from = "String")]`), so the API's JSON and the console's forms meet the same
//! rule and the same error.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a value was refused: the field's rule, in English (the code is `invalid_field`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

macro_rules! ids {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                $name(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                Uuid::parse_str(s.trim()).map($name).map_err(|_| Invalid("not an id (a UUID)"))
            }
        }
    )*};
}

ids! {
    /// An incident (突发事件).
    IncidentId;
    /// A task of an incident.
    TaskId;
    /// A petition case (信访事项).
    CaseId;
    /// A dispute found by screening (矛盾纠纷).
    DisputeId;
    /// A person in the directory.
    PersonId;
    /// A jurisdiction (辖区).
    JurisdictionId;
    /// A call (one post's callout of an incident).
    CallId;
}

macro_rules! text_value {
    ($(#[doc = $doc:literal])* $name:ident, $check:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                let check: fn(&str) -> Result<String, Invalid> = $check;
                check(&s).map($name)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Invalid;
            fn try_from(s: &str) -> Result<Self, Invalid> {
                Self::try_from(s.to_string())
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                Self::try_from(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// A telephone number: 5–20 digits, with `+`, `-` and spaces allowed between them (at most
    /// 24 characters). Stored as written, trimmed.
    Phone,
    |s| {
        let s = s.trim();
        let digits = s.chars().filter(char::is_ascii_digit).count();
        if (5..=20).contains(&digits)
            && s.chars().count() <= 24
            && s.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))
        {
            Ok(s.to_string())
        } else {
            Err(Invalid(
                "a phone number has 5–20 digits and only digits, +, - and spaces",
            ))
        }
    }
);

text_value!(
    /// A resident ID number (居民身份证号码): 15 or 18 characters, digits, the last of 18 may
    /// be X (kept upper-case).
    IdNumber,
    |s| {
        let s = s.trim().to_ascii_uppercase();
        let n = s.chars().count();
        let shape = (n == 15 || n == 18)
            && s.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || (n == 18 && i + 1 == n && c == 'X'));
        if shape {
            Ok(s)
        } else {
            Err(Invalid(
                "an ID number has 15 or 18 characters: digits, the last of 18 may be X",
            ))
        }
    }
);

text_value!(
    /// A case number (信访事项编号) as the jurisdiction's pattern makes it: 1–64 visible
    /// characters.
    CaseNumber,
    |s| {
        let s = s.trim();
        let n = s.chars().count();
        if (1..=64).contains(&n) && !s.chars().any(char::is_control) {
            Ok(s.to_string())
        } else {
            Err(Invalid("a case number has 1–64 visible characters"))
        }
    }
);

text_value!(
    /// A jurisdiction's place in the tree: `/` followed by one `<uuid>/` per level from the
    /// root (`/a/b/`). A path is in another's subtree when it starts with it.
    JurisdictionPath,
    |s| {
        let ok = s.len() > 1
            && s.starts_with('/')
            && s.ends_with('/')
            && s[1..s.len() - 1]
                .split('/')
                .all(|seg| Uuid::parse_str(seg).is_ok());
        if ok {
            Ok(s.to_string())
        } else {
            Err(Invalid("a jurisdiction path is /<id>/<id>/…/"))
        }
    }
);

impl JurisdictionPath {
    /// Whether `other` is this jurisdiction or one below it.
    pub fn contains(&self, other: &JurisdictionPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The path of a child jurisdiction.
    pub fn child(&self, id: JurisdictionId) -> JurisdictionPath {
        JurisdictionPath(format!("{}{}/", self.0, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(Phone::try_from("139 0000 1234").is_ok());
        assert!(Phone::try_from("+86-10-1234567").is_ok());
        assert!(Phone::try_from("1234").is_err());
        assert!(Phone::try_from("139abc01234").is_err());
        assert!(serde_json::from_str::<Phone>("\"12\"").is_err());
        assert_eq!(
            serde_json::from_str::<Phone>("\" 13900001234 \"")
                .unwrap()
                .as_str(),
            "13900001234"
        );
    }

    #[test]
    fn id_numbers() {
        assert_eq!(
            IdNumber::try_from("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert!(IdNumber::try_from("110105491231002").is_ok());
        assert!(IdNumber::try_from("1101054912310X2").is_err());
        assert!(IdNumber::try_from("1101051949123100").is_err());
    }

    #[test]
    fn paths_nest() {
        let a = Uuid::now_v7();
        let root = JurisdictionPath::try_from(format!("/{a}/")).unwrap();
        let child = root.child(JurisdictionId::new());
        assert!(root.contains(&child));
        assert!(!child.contains(&root));
        assert!(JurisdictionPath::try_from("/x/").is_err());
        assert!(JurisdictionPath::try_from("/").is_err());
    }

    #[test]
    fn case_numbers_and_ids() {
        assert!(CaseNumber::try_from("临溪信-2026-000001").is_ok());
        assert!(CaseNumber::try_from("").is_err());
        assert!(CaseNumber::try_from("a\u{0}b").is_err());
        assert!("not-a-uuid".parse::<IncidentId>().is_err());
        let id = IncidentId::new();
        assert_eq!(id.to_string().parse::<IncidentId>().unwrap(), id);
    }
}
