/// What an account may do in the hub. Citizens use tools; editors also maintain the catalogue;
/// admins also manage clients and accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Citizen,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Citizen, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Editors and admins may change the catalogue.
    pub fn can_edit_catalogue(self) -> bool {
        self >= Role::Editor
    }
}
