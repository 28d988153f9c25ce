using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Rollback;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Contracts.V1.Requests;
using EventSourcedRegistry.Settings;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>A plan as the page shows it: the dry run's answer, and the model it was made for (the confirmation binds to both).</summary>
public sealed record RollbackPlan(Wire.RollbackOutcome Outcome, Guid ModelId);

/// <summary>One model of a registry-wide plan as the page shows it, with the model it was made for (null: not to be confirmed).</summary>
public sealed record RegistryPlanItem(Wire.ModelRollbackOutcome Outcome, Guid? ModelId);

/// <summary>A registry-wide plan: the dry run's point and its models.</summary>
public sealed record RegistryPlan(Wire.RegistryRollbackOutcome Outcome, IReadOnlyList<RegistryPlanItem> Items);

/// <summary>Whether a key may roll a model back: yes, no (403: it may read the model), or the model is hidden (404).</summary>
public enum RollbackAccess { Allowed, Forbidden, Hidden }

/// <summary>
/// Rollback (issue 15, Build 5) through the API's own endpoint, called in process as the signed-in key:
/// <c>POST /api/v1/models/{name}/rollback</c> with <c>dryRun</c> for the plan, then without it for the confirmation,
/// each first authorized by the endpoint's policy (<c>registry:contribute</c>, judged for the model as for the API).
/// The confirmation carries the revision the plan was made at as <c>If-Match</c>, so a model changed between plan and
/// confirmation is refused (412) by the endpoint instead of being rolled back by a plan nobody saw.
/// </summary>
public sealed class ConsoleRollback(IAuthorizationService authorization, WorkspacePolicies policies)
{
    /// <summary>The API's judgement of this key for <c>POST /api/v1/models/{name}/rollback</c>.</summary>
    public async Task<RollbackAccess> Access(HttpContext http, string model)
    {
        var allowed = await authorization.AuthorizeAsync(http.User, Request(http, model, revision: null), Policies.Contribute);
        if (allowed.Succeeded) return RollbackAccess.Allowed;
        return allowed.Failure?.FailureReasons.Any(r => r.Message == ModelAccessHandler.HiddenModel) == true
            ? RollbackAccess.Hidden
            : RollbackAccess.Forbidden;
    }

    /// <summary>For the model page's link: whether the API would let this key roll the model back.</summary>
    public async Task<bool> MayRollBack(HttpContext http, string model) => await Access(http, model) == RollbackAccess.Allowed;

    /// <summary>The dry run: the plan to roll <paramref name="model"/> back to <paramref name="asOf"/>, and the revision it was made at.</summary>
    public async Task<ConsoleAnswer<RollbackPlan>> Plan(HttpContext http, string model, string asOf)
    {
        // The endpoint asks a reason of a dry run too; nothing of it is recorded.
        var answer = await Run(http, model, new RollBackModel(asOf, null, "dry run from the console", true), null, null);
        if (answer.Value is not { } outcome) return new ConsoleAnswer<RollbackPlan>(null, answer.Status, answer.Title, answer.Detail);
        // The model the name names: a confirmation is refused should the name name another one by then (a rename and a new
        // registration under the old name could even reach the same revision).
        var id = await http.RequestServices.GetRequiredService<ModelCommands>().ModelIdOf(http.Workspace(), model, http.RequestAborted);
        return id is null
            ? new ConsoleAnswer<RollbackPlan>(null, StatusCodes.Status404NotFound, "Model not found", Problems.NoSuchModel(model))
            : new ConsoleAnswer<RollbackPlan>(new RollbackPlan(outcome, id.Value), 200, null, null);
    }

    /// <summary>
    /// The rollback the plan showed: the same instant, with the plan's revision as If-Match. The reason is the API's to
    /// judge (a blank one is refused by the endpoint, appending nothing).
    /// </summary>
    public Task<ConsoleAnswer<Wire.RollbackOutcome>> Confirm(HttpContext http, string model, Guid modelId, string asOf, long revision, string? reason) =>
        Run(http, model, new RollBackModel(asOf, null, reason, false), revision, modelId);

    /// <summary>Whether the key may call <c>POST /api/v1/registry/rollback</c> (the admin role of the workspace).</summary>
    public async Task<bool> MayRollBackRegistry(HttpContext http) =>
        (await authorization.AuthorizeAsync(http.User, RegistryRequest(http), Policies.Admin)).Succeeded;

    /// <summary>
    /// The registry-wide dry run, <c>POST /api/v1/registry/rollback</c> with <c>dryRun</c>: every model's plan at the
    /// instant, each model with a plan to confirm bound to its id (as for one model).
    /// </summary>
    public async Task<ConsoleAnswer<RegistryPlan>> PlanRegistry(HttpContext http, string asOf)
    {
        if (!await MayRollBackRegistry(http))
            return new ConsoleAnswer<RegistryPlan>(null, StatusCodes.Status403Forbidden, "Forbidden",
                "This key may not roll back the registry: that needs the admin role of the workspace.");
        EffectivePolicy policy;
        try
        {
            policy = await policies.ForAsync(http.Workspace(), http.RequestAborted);
        }
        catch (InvalidWorkspacePolicyException ex)
        {
            return new ConsoleAnswer<RegistryPlan>(null, StatusCodes.Status503ServiceUnavailable, "Workspace policy unusable", ex.Message);
        }
        var services = http.RequestServices;
        var commands = services.GetRequiredService<ModelCommands>();
        var answer = await ConsoleReads.Answer<Wire.RegistryRollbackOutcome>(http, RegistryRequest(http), s => RollBackRegistryEndpoint.Post(
            new RollBackRegistry(asOf, null, "dry run from the console", true, null), s, commands, services.GetRequiredService<WorkspaceStore>(),
            services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<PointResolver>(), policy.Lifecycle, policy.Approvals));
        if (answer.Value is not { } outcome) return new ConsoleAnswer<RegistryPlan>(null, answer.Status, answer.Title, answer.Detail);
        var items = new List<RegistryPlanItem>();
        foreach (var model in outcome.Models.Where(m => m.Plan.Count > 0 || m.Outcome == "failed"))
        {
            var confirmable = model is { Outcome: "planned", ApprovalRequired: false, Revision: not null };
            items.Add(new RegistryPlanItem(model, confirmable ? await commands.ModelIdOf(http.Workspace(), model.Model, http.RequestAborted) : null));
        }
        return new ConsoleAnswer<RegistryPlan>(new RegistryPlan(outcome, items), 200, null, null);
    }

    private async Task<ConsoleAnswer<Wire.RollbackOutcome>> Run(HttpContext http, string model, RollBackModel request, long? revision, Guid? modelId)
    {
        var sub = Request(http, model, revision);
        switch (await Access(http, model))
        {
            case RollbackAccess.Hidden:
                return new ConsoleAnswer<Wire.RollbackOutcome>(null, StatusCodes.Status404NotFound, "Model not found", Problems.NoSuchModel(model));
            case RollbackAccess.Forbidden:
                return new ConsoleAnswer<Wire.RollbackOutcome>(null, StatusCodes.Status403Forbidden, "Forbidden",
                    $"This key may not roll back model '{model}': rollback needs the contributor role for it.");
        }
        EffectivePolicy policy;
        try
        {
            policy = await policies.ForAsync(http.Workspace(), http.RequestAborted);
        }
        catch (InvalidWorkspacePolicyException ex)
        {
            return new ConsoleAnswer<Wire.RollbackOutcome>(null, StatusCodes.Status503ServiceUnavailable, "Workspace policy unusable", ex.Message);
        }
        var services = http.RequestServices;
        var commands = services.GetRequiredService<ModelCommands>();
        // Checked before the command; the If-Match revision then guards the rest of the way (the command locks the stream).
        if (modelId is { } planned && await commands.ModelIdOf(http.Workspace(), model, http.RequestAborted) is { } now && now != planned)
            return new ConsoleAnswer<Wire.RollbackOutcome>(null, StatusCodes.Status412PreconditionFailed, "Stale plan",
                $"The name '{model}' names another model than the one the plan was made for; show the plan again.");
        return await ConsoleReads.Answer<Wire.RollbackOutcome>(http, sub, s => RollBackModelEndpoint.Post(model, request, s,
            commands, services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<PointResolver>(),
            policy.Lifecycle, policy.Approvals));
    }

    private static HttpContext RegistryRequest(HttpContext http)
    {
        var sub = ConsoleReads.SubRequest(http, "/api/v1/registry/rollback", new Dictionary<string, StringValues>(), null);
        sub.Request.Method = HttpMethods.Post;
        sub.TraceIdentifier = http.TraceIdentifier;
        return sub;
    }

    private static HttpContext Request(HttpContext http, string model, long? revision)
    {
        var sub = ConsoleReads.SubRequest(http, $"/api/v1/models/{Uri.EscapeDataString(model)}/rollback", new Dictionary<string, StringValues>(), model);
        sub.Request.Method = HttpMethods.Post;
        // The command's causation is the console request that carried it.
        sub.TraceIdentifier = http.TraceIdentifier;
        if (revision is { } pinned) sub.Request.Headers.IfMatch = $"\"{pinned}\"";
        return sub;
    }
}
