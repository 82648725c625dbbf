//! The ids of vendor objects, one type per kind, shared by the providers, live state and plans,
//! so an Okta user id cannot stand where a group id, an app id or a login is expected.
//!
//! What must hold: an id is made from a string only by [`new`](OktaUserId::new) or by
//! deserializing a vendor answer or a saved value, and read only through `as_str` or `Display`;
//! no layer converts one kind into another.

/// A string newtype: made by `new`, read by `as_str` and `Display`, (de)serialized as the
/// bare string. Also used for the config's names (`config::model`).
macro_rules! string_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
pub(crate) use string_type;

string_type! {
    /// An Okta app instance id (`0oa…`).
    OktaAppId;
    /// An Okta user id (`00u…`).
    OktaUserId;
    /// An Okta group id (`00g…`).
    OktaGroupId;
    /// An Okta profile mapping id (`prm…`).
    MappingId;
    /// An Okta group push mapping id (`gPm…`).
    PushMappingId;
    /// A WS1 directory id.
    DirectoryId;
}
