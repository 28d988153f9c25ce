namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// The authorization policies; every endpoint names exactly one (or is explicitly anonymous: health and OpenAPI).
/// Each requires its role registry-wide, or for the model in the route when the route names one (see
/// <see cref="Access.ModelAccessHandler"/>).
/// </summary>
public static class Policies
{
    public const string Read = "registry:read";
    public const string Contribute = "registry:contribute";
    public const string Approve = "registry:approve";
    public const string Audit = "registry:audit";
    public const string Admin = "registry:admin";
    /// <summary>Above every workspace's admin: creates, lists, renames and archives workspaces; platform keys.</summary>
    public const string PlatformAdmin = "platform:admin";
    /// <summary>Any authenticated caller: for routes that decide what to show by the caller's workspaces (the workspace list).</summary>
    public const string Authenticated = "registry:authenticated";

    public static readonly IReadOnlyDictionary<string, string> RoleOf = new Dictionary<string, string>
    {
        [Read] = Roles.Reader,
        [Contribute] = Roles.Contributor,
        [Approve] = Roles.Approver,
        [Audit] = Roles.Auditor,
        [Admin] = Roles.Admin,
    };
}

/// <summary>The roles a grant can carry, and which role implies which.</summary>
public static class Roles
{
    public const string Reader = "reader";
    public const string Contributor = "contributor";
    public const string Approver = "approver";
    public const string Auditor = "auditor";
    public const string Admin = "admin";
    /// <summary>Held only in the platform (<c>WorkspaceId.Platform</c>); implies no role inside any workspace.</summary>
    public const string PlatformAdmin = "platform-admin";

    public static readonly IReadOnlyList<string> All = [Reader, Contributor, Approver, Auditor, Admin];

    /// <summary>Roles that make sense for one model; auditing and administration are registry-wide only.</summary>
    public static readonly IReadOnlyList<string> ModelScoped = [Reader, Contributor, Approver];

    /// <summary>admin implies every role; contributor, approver and auditor imply reader.</summary>
    public static bool Implies(string held, string required) =>
        held == required || held == Admin || required == Reader && held is Contributor or Approver or Auditor;
}
