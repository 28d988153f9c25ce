using EventSourcedRegistry.Api.Workspaces;
using System.Security.Claims;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// Marks a read whose route names a model that it resolves as of a requested point (<c>asOf</c>/<c>atSequence</c>):
/// the name may then lead to another model than the one holding it now, so <see cref="ModelAccessHandler"/> leaves the
/// grant check to the endpoint, which authorizes the model it actually reads with <see cref="ModelAccess.MayReadAsync"/>
/// (through <see cref="TimeTravel.PastModel.Load"/>). Only for GET endpoints that do so.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AuthorizesModelReadAtPointAttribute : Attribute;

/// <summary>Whether a caller may read a model, by the model's id: the check time travel applies to the model it resolved.</summary>
public static class ModelAccess
{
    /// <summary>
    /// True for a registry-wide reader, a key granted a role on this model (by id), or a token granted a role on the name
    /// this model holds now. A token's grant names a model as the identity provider writes it: it covers the model that
    /// holds that name when the request is made — that model's whole past, under whatever name it had — and not a model
    /// that held the name before and has been renamed since.
    /// </summary>
    public static async Task<bool> MayReadAsync(WorkspaceId workspace, ClaimsPrincipal user, Guid modelId, ModelCommands models, CancellationToken ct)
    {
        var grants = AccessClaims.GrantsOf(user).Where(g => Roles.Implies(g.Role, Roles.Reader)).ToList();
        if (grants.Any(g => g.RegistryWide || g.ModelId == modelId)) return true;
        foreach (var name in grants.Select(g => g.ModelName).OfType<string>().Distinct(StringComparer.Ordinal))
            if (await models.ModelIdOf(workspace, name, ct) == modelId) return true;
        return false;
    }

    /// <summary>
    /// Whether a caller may take a name in the registry's one namespace (register a model, rename one): only with the
    /// contributor role registry-wide. A name that is taken is refused whoever holds it, so a caller scoped to models
    /// would learn from that refusal that a model it may not see exists.
    /// </summary>
    public static bool MayClaimNames(ClaimsPrincipal user) =>
        AccessClaims.GrantsOf(user).Any(g => g.RegistryWide && Roles.Implies(g.Role, Roles.Contributor));

    public static IResult NameClaimRefused() =>
        Problems.Problem(StatusCodes.Status403Forbidden, "Forbidden",
            "Renaming a model takes a name from the registry's one namespace, which needs the contributor role registry-wide: " +
            "a name already taken is refused whoever holds it, and that refusal would tell a caller scoped to models of a model it may not see. " +
            "Ask an admin, or a registry-wide contributor, to rename it.");
}
