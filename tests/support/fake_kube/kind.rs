//! The resource kinds the fake serves, and what the API server knows about each: group,
//! version, plural, and the storage rules that differ between them.

/// A resource kind served by the fake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `argoproj.io/v1alpha1` `Application` (CRD without a status subresource).
    Application,
    /// `argoproj.io/v1alpha1` `ApplicationSet` (CRD with a status subresource).
    ApplicationSet,
    /// `coordination.k8s.io/v1` `Lease` (built in).
    Lease,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Application, Kind::ApplicationSet, Kind::Lease];

    /// The kind served at `/apis/{group}/{version}/.../{plural}`.
    pub fn resolve(group: &str, version: &str, plural: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.group() == group && k.version() == version && k.plural() == plural)
    }

    /// The API group.
    pub fn group(self) -> &'static str {
        match self {
            Kind::Application | Kind::ApplicationSet => "argoproj.io",
            Kind::Lease => "coordination.k8s.io",
        }
    }

    /// The API version within the group.
    pub fn version(self) -> &'static str {
        match self {
            Kind::Application | Kind::ApplicationSet => "v1alpha1",
            Kind::Lease => "v1",
        }
    }

    /// The resource name in URLs.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Application => "applications",
            Kind::ApplicationSet => "applicationsets",
            Kind::Lease => "leases",
        }
    }

    /// The `kind` field of one object.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Application => "Application",
            Kind::ApplicationSet => "ApplicationSet",
            Kind::Lease => "Lease",
        }
    }

    /// `group/version`, the `apiVersion` field.
    pub fn api_version(self) -> String {
        format!("{}/{}", self.group(), self.version())
    }

    /// The `kind` field of a list.
    pub fn list_kind(self) -> String {
        format!("{}List", self.name())
    }

    /// `plural.group`, as the API server names the resource in messages.
    pub fn resource(self) -> String {
        format!("{}.{}", self.plural(), self.group())
    }

    /// Custom resources get `metadata.generation`; leases do not.
    pub fn has_generation(self) -> bool {
        self != Kind::Lease
    }

    /// With a status subresource, writes to the main resource keep the stored `status`, and
    /// only spec changes bump the generation.
    pub fn has_status_subresource(self) -> bool {
        self == Kind::ApplicationSet
    }

    /// A DELETE of a custom resource answers the deleted object; of a lease, a `Status`.
    pub fn returns_deleted_object(self) -> bool {
        self != Kind::Lease
    }
}
