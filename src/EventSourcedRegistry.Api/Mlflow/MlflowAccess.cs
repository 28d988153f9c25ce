using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// The grant check of <see cref="ModelAccessHandler"/>, for routes that name their model in the query or the body (MLflow's)
/// instead of the path: the role registry-wide, or for the named model (by id for a key's grant, by name for a token's).
/// A caller who may read the model but lacks the role gets <c>PERMISSION_DENIED</c>; one who may not read it gets exactly
/// the answer of a model that does not exist (<paramref name="hidden"/>), so not even its name leaks.
/// </summary>
public static class MlflowAccess
{
    /// <param name="boundModelId">The model the thing asked for belongs to, when it is bound to one by id (an artifact proxy
    /// file): a key's grant is checked against it instead of against the model that holds <paramref name="modelName"/> now.</param>
    public static async Task<IResult?> Refusal(HttpContext http, ModelCommands models, string role, string modelName, Func<IResult> hidden,
        Guid? boundModelId = null)
    {
        var grants = AccessClaims.GrantsOf(http.User);
        if (grants.Any(g => g.RegistryWide && Roles.Implies(g.Role, role))) return null;

        var normalized = InputRules.NormalizeName(modelName);
        var modelId = boundModelId;
        if (modelId is null && grants.Any(g => g.ModelId is not null))
            modelId = await models.ModelIdOf(http.Workspace(), modelName, http.RequestAborted);
        bool Covers(Grant g) => g.RegistryWide || g.ModelId is { } id && id == modelId || g.ModelName == normalized;

        if (grants.Any(g => Covers(g) && Roles.Implies(g.Role, role))) return null;
        if (grants.Any(g => Covers(g) && Roles.Implies(g.Role, Roles.Reader))) return Denied(http, role);
        return hidden();
    }

    /// <summary>Registering or renaming takes a name from the workspace's one namespace: contributor registry-wide (see <see cref="ModelAccess.MayClaimNames"/>).</summary>
    public static IResult? NameClaimRefusal(HttpContext http) =>
        ModelAccess.MayClaimNames(http.User)
            ? null
            : MlflowErrors.Error(MlflowErrors.PermissionDenied,
                $"{AccessClaims.ActorOf(http.User) ?? "The caller"} lacks the role this call needs (contributor, registry-wide): " +
                "registering or renaming takes a name from the workspace's one namespace.");

    public static IResult Denied(HttpContext http, string role) =>
        MlflowErrors.Error(MlflowErrors.PermissionDenied,
            $"{AccessClaims.ActorOf(http.User) ?? "The caller"} lacks the role this call needs ({role}, registry-wide or for this model).");

    /// <summary>Whether the caller reads every model of the workspace; otherwise searches show only the models its grants cover.</summary>
    public static bool ReadsEverything(HttpContext http) =>
        AccessClaims.GrantsOf(http.User).Any(g => g.RegistryWide && Roles.Implies(g.Role, Roles.Reader));

    /// <summary>The models a caller without a registry-wide role may read: ids of key grants, normalized names of token grants.</summary>
    public static (IReadOnlySet<Guid> Ids, IReadOnlySet<string> Names) Readable(HttpContext http)
    {
        var grants = AccessClaims.GrantsOf(http.User).Where(g => Roles.Implies(g.Role, Roles.Reader)).ToList();
        return (grants.Select(g => g.ModelId).OfType<Guid>().ToHashSet(),
            grants.Select(g => g.ModelName).OfType<string>().ToHashSet(StringComparer.Ordinal));
    }
}
