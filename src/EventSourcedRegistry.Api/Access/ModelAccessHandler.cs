using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Validation;
using Microsoft.AspNetCore.Authorization;

namespace EventSourcedRegistry.Api.Access;

/// <summary>A policy's one requirement: the role, judged against the route's model when it names one.</summary>
public sealed record RoleRequirement(string Role) : IAuthorizationRequirement;

/// <summary>
/// Grants a role registry-wide, or on the model a route names (<c>/api/v1/models/{name}/...</c>): a caller holding
/// the role for that model passes; one who may read it but lacks the role is refused (403); one who may not read it
/// at all learns nothing of it (404, as for an unknown model). Routes that span models need the role registry-wide,
/// except artifacts: the role granted for any model lets a caller call them, and the artifact endpoints then answer
/// only for digests reached through a model it may read (<see cref="Artifacts.ArtifactAccess"/>).
/// Registry-wide grants never read the database; a model grant of an API key resolves the route's name once. A read at
/// a point on an endpoint marked <see cref="AuthorizesModelReadAtPointAttribute"/> is judged by the model it reads, in
/// the endpoint (<see cref="ModelAccess"/>), since the name may then lead to another model than its holder now.
/// </summary>
public sealed class ModelAccessHandler(ModelCommands models) : AuthorizationHandler<RoleRequirement>
{
    public const string HiddenModel = "model-hidden";

    /// <summary>
    /// Where a grant of <paramref name="role"/> lets a caller make this request, in the words of a 403: the rules of
    /// <see cref="HandleRequirementAsync"/>, so the refusal never offers a grant that would not help (auditor and admin are
    /// registry-wide only, and routes that span models need the role registry-wide).
    /// </summary>
    public static string WhereGranted(string role, HttpContext http) =>
        !Roles.ModelScoped.Contains(role) ? "registry-wide"
        : http.Request.Path.StartsWithSegments("/api/v1/artifacts") || http.Request.Path.StartsWithSegments("/api/v1/feed") ? "registry-wide or for a model"
        : http.Request.Path.StartsWithSegments("/api/v1/models") && http.GetRouteValue("name") is string ? "registry-wide or for this model"
        : "registry-wide";

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        var grants = AccessClaims.GrantsOf(context.User);
        if (grants.Any(g => g.RegistryWide && Roles.Implies(g.Role, requirement.Role)))
        {
            context.Succeed(requirement);
            return;
        }
        if (context.Resource is not HttpContext http) return;

        // The pull feed spans models too: a caller with the role for some models reads theirs (the endpoint filters).
        if (http.Request.Path.StartsWithSegments("/api/v1/artifacts") || http.Request.Path.StartsWithSegments("/api/v1/feed"))
        {
            if (grants.Any(g => Roles.Implies(g.Role, requirement.Role))) context.Succeed(requirement);
            return;
        }

        if (!http.Request.Path.StartsWithSegments("/api/v1/models") || http.GetRouteValue("name") is not string model) return;

        // A read at a point resolves the name as it was then, possibly to another model than the one holding it now:
        // the endpoint authorizes the model it reads (and answers a hidden one as unknown); here only the role counts.
        if (PointsInTime.Requested(http.Request) && http.GetEndpoint()?.Metadata.GetMetadata<AuthorizesModelReadAtPointAttribute>() is not null)
        {
            if (grants.Any(g => Roles.Implies(g.Role, requirement.Role))) context.Succeed(requirement);
            else context.Fail(new AuthorizationFailureReason(this, HiddenModel));
            return;
        }

        var normalized = InputRules.NormalizeName(model);
        Guid? modelId = null;
        if (grants.Any(g => g.ModelId is not null))
            modelId = await models.ModelIdOf(http.Workspace(), model, http.RequestAborted);
        bool Covers(Grant g) => g.RegistryWide || g.ModelId is { } id && id == modelId || g.ModelName == normalized;

        if (grants.Any(g => Covers(g) && Roles.Implies(g.Role, requirement.Role))) context.Succeed(requirement);
        else if (!grants.Any(g => Covers(g) && Roles.Implies(g.Role, Roles.Reader)))
            context.Fail(new AuthorizationFailureReason(this, HiddenModel));
    }
}
