/// What happened to a claim, as the binding history records it (`cairn describe`, `cairn verify
/// retention`). One vocabulary for the controllers that decide and the store that keeps it.
public enum BindingAction: String, Sendable, CaseIterable, Codable, Hashable {
    /// A volume was created for the claim.
    case provisioned
    /// The claim was bound to its volume.
    case bound
    /// A pod arrived: its volumes were mounted for the first time in that pod's life.
    case mounted
    /// The daemon restarted under a running pod and mounted its volumes again; the pod never left.
    case remounted
    /// A pod left: its volumes were unmounted.
    case unmounted
    /// The claim's capacity was raised.
    case expanded
    /// The claim was deleted and its volume released.
    case released
    /// The volume and its data were deleted (reclaim policy Delete).
    case deleted
    /// The claim lost its volume.
    case lost
}

/// Which moment a content fingerprint describes.
public enum FingerprintKind: String, Sendable, CaseIterable, Codable, Hashable {
    /// What the last pod left when its volume was unmounted.
    case left
    /// What a pod found when it arrived (its first mount, not a remount after a restart).
    case arrival
}
