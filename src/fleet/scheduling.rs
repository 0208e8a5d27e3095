//! Where previews run: the node labels and taint that set the previews' nodes apart, and the
//! architecture their images are built for. Read from the fleet's `scheduling`; rendered into
//! the pod-template patch by `params`.

use serde::Serialize;

/// How nodes are told apart by capacity type, for spot placement with an on-demand fallback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheduling {
    /// Node label carrying the capacity type (default `karpenter.sh/capacity-type`; EKS managed
    /// node groups use `eks.amazonaws.com/capacityType`).
    pub capacity_type_label: String,
    /// Label value of spot nodes (default `spot`; EKS managed node groups: `SPOT`).
    pub spot_value: String,
    /// Label value of on-demand nodes (default `on-demand`; EKS managed node groups:
    /// `ON_DEMAND`).
    pub on_demand_value: String,
    /// Taint of the nodes kept for previews (the previews' Karpenter NodePool, which holds spot
    /// and on-demand nodes alike), tolerated by every preview whatever its capacity type;
    /// `None` when those nodes are not tainted. Fleet key `toleration`; `spot_toleration`, its
    /// name when only spot previews tolerated it, is still read.
    pub toleration: Option<Toleration>,
    /// CPU architecture of the preview images (`amd64` or `arm64`, default `amd64`): every
    /// preview pod is pinned to nodes of it (`kubernetes.io/arch`). It must be what CI builds.
    pub architecture: String,
    /// The node label and value of the nodes kept for previews (`karpenter.sh/nodepool:
    /// previews`), which every preview pod requires: without it a preview tolerating the pool's
    /// taint may still land on any untainted node (the pool's limits then cap nothing, and PR
    /// code runs beside the platform's pods). `None`: no such requirement.
    pub node_pool: Option<NodePool>,
}

/// The node label that marks the nodes kept for previews.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodePool {
    /// Label key: `karpenter.sh/nodepool` (Karpenter), `eks.amazonaws.com/nodegroup` (EKS
    /// managed node groups).
    pub label: String,
    /// Label value: the pool's (or node group's) name.
    pub value: String,
}

/// A Kubernetes toleration for the previews' taint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Toleration {
    /// Taint key.
    pub key: String,
    /// Taint value; `None` tolerates any value (`operator: Exists`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}
