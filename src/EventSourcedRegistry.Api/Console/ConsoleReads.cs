using System.Text.Json;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Audit;
using EventSourcedRegistry.Api.Audit.Checkpoints;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using Marten;
using EventSourcedRegistry.Api.Models.Listing;
using EventSourcedRegistry.Api.Registry;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>An endpoint's answer as a page shows it: the value, or the refusal's status, title and detail.</summary>
public sealed record ConsoleAnswer<T>(T? Value, int Status, string? Title, string? Detail) where T : class
{
    public bool Ok => Value is not null;
}

/// <summary>An endpoint's refusal as a page shows it: title and detail, whichever it gave.</summary>
public static class ConsoleProblem
{
    public static string Describe(string? title, string? detail, string fallback = "The registry could not answer.") =>
        (title, detail) switch
        {
            ({ Length: > 0 } t, { Length: > 0 } d) => $"{t}: {d}",
            (_, { Length: > 0 } d) => d,
            ({ Length: > 0 } t, _) => t,
            _ => fallback,
        };
}

/// <summary>
/// The console reads through the API's own endpoints, called in process with the page's query as theirs: one
/// implementation of every read (filters, paging, the as-of settle rule and its refusals), and the pages show exactly
/// what the API would answer the same key. The endpoint's authorization attribute is not run by a direct call, so
/// each read first asks the same policy of the same authorization service the API's pipeline asks.
/// </summary>
public sealed class ConsoleReads(IAuthorizationService authorization)
{
    /// <summary>Whether the caller may call the API's registry-wide reads (a key scoped to models may not).</summary>
    public async Task<bool> ReadsRegistryWide(HttpContext http) =>
        (await authorization.AuthorizeAsync(http.User, null, Policies.Read)).Succeeded;

    /// <summary><c>GET /api/v1/models</c>: prefix, tag, stage, cursor.</summary>
    public async Task<ConsoleAnswer<Wire.ModelPage>> Models(HttpContext http, IDictionary<string, StringValues> query)
    {
        var policy = await http.RequestServices.GetRequiredService<WorkspacePolicies>().ForAsync(http.Workspace(), http.RequestAborted);
        return await Call<Wire.ModelPage>(http, "/api/v1/models", query, sub => ListModelsEndpoint.Get(sub,
            http.RequestServices.GetRequiredService<WorkspaceStore>(), policy.Lifecycle, http.RequestServices.GetRequiredService<TagListing>()));
    }

    /// <summary><c>GET /api/v1/registry</c>: the registry at asOf, paged by cursor.</summary>
    public Task<ConsoleAnswer<Wire.RegistryPage>> Registry(HttpContext http, IDictionary<string, StringValues> query) =>
        Call<Wire.RegistryPage>(http, "/api/v1/registry", query, sub => GetRegistryEndpoint.Get(sub,
            http.RequestServices.GetRequiredService<NpgsqlDataSource>(), http.RequestServices.GetRequiredService<PointResolver>()));

    /// <summary>
    /// Whether the caller may read the model the name names: the API's own decision for <c>GET /api/v1/models/{name}</c>
    /// (a key scoped to other models is refused, as for an unknown model). Read at a point, the endpoint then judges the
    /// model the name named then, as it does for the API.
    /// </summary>
    public async Task<bool> ReadsModel(HttpContext http, string name, IDictionary<string, StringValues> query)
    {
        var sub = SubRequest(http, $"/api/v1/models/{Uri.EscapeDataString(name)}", query, name);
        // As the model endpoints are marked: a read at a point is judged by the model it reads, in the endpoint.
        sub.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new AuthorizesModelReadAtPointAttribute()), "console model read"));
        return (await authorization.AuthorizeAsync(http.User, sub, Policies.Read)).Succeeded;
    }

    /// <summary><c>GET /api/v1/models/{name}</c> (asOf).</summary>
    public Task<ConsoleAnswer<Wire.ModelInfo>> Model(HttpContext http, string name, IDictionary<string, StringValues> query) =>
        Call<Wire.ModelInfo>(http, $"/api/v1/models/{Uri.EscapeDataString(name)}", query, sub => Api.Models.Reading.GetModelEndpoint.Get(name, sub,
            http.RequestServices.GetRequiredService<WorkspaceStore>(), http.RequestServices.GetRequiredService<PastModels>(),
            http.RequestServices.GetRequiredService<Api.Models.Reading.ModelViewAnswers>()), name);

    /// <summary><c>GET /api/v1/models/{name}/versions</c> (asOf, cursor).</summary>
    public async Task<ConsoleAnswer<Wire.ModelVersionPage>> Versions(HttpContext http, string name, IDictionary<string, StringValues> query)
    {
        var policy = await http.RequestServices.GetRequiredService<WorkspacePolicies>().ForAsync(http.Workspace(), http.RequestAborted);
        return await Call<Wire.ModelVersionPage>(http, $"/api/v1/models/{Uri.EscapeDataString(name)}/versions", query, sub =>
            ModelVersions.Reading.ListModelVersionsEndpoint.Get(name, sub, http.RequestServices.GetRequiredService<WorkspaceStore>(),
                policy.Lifecycle, http.RequestServices.GetRequiredService<PastModels>()), name);
    }

    /// <summary><c>GET /api/v1/models/{name}/history</c> (asOf, cursor): the timeline.</summary>
    public Task<ConsoleAnswer<Wire.HistoryPage>> History(HttpContext http, string name, IDictionary<string, StringValues> query) =>
        Call<Wire.HistoryPage>(http, $"/api/v1/models/{Uri.EscapeDataString(name)}/history", query, sub => Api.Models.History.GetModelHistoryEndpoint.Get(name, sub,
            http.RequestServices.GetRequiredService<WorkspaceStore>(), http.RequestServices.GetRequiredService<PastModels>()), name);

    /// <summary><c>GET /api/v1/registry/changes</c> (from, to, cursor): every stage, alias and deployment change between two points.</summary>
    public Task<ConsoleAnswer<Wire.RegistryChangesPage>> Changes(HttpContext http, IDictionary<string, StringValues> query) =>
        Call<Wire.RegistryChangesPage>(http, "/api/v1/registry/changes", query, sub => GetRegistryChangesEndpoint.Get(sub,
            http.RequestServices.GetRequiredService<NpgsqlDataSource>(), http.RequestServices.GetRequiredService<PointResolver>()));

    /// <summary><c>GET /api/v1/models/{name}/requests/{id}</c>: one transition request with its approvals.</summary>
    public async Task<ConsoleAnswer<Wire.TransitionRequestInfo>> TransitionRequest(HttpContext http, string name, Guid id)
    {
        var policy = await http.RequestServices.GetRequiredService<WorkspacePolicies>().ForAsync(http.Workspace(), http.RequestAborted);
        return await Call<Wire.TransitionRequestInfo>(http, $"/api/v1/models/{Uri.EscapeDataString(name)}/requests/{id}", new Dictionary<string, StringValues>(), sub =>
            Api.Approvals.GetTransitionRequestEndpoint.Get(name, id.ToString(), sub, http.RequestServices.GetRequiredService<WorkspaceStore>(),
                policy.Approvals, http.RequestServices.GetRequiredService<TimeProvider>()), name);
    }

    /// <summary>
    /// The revision (stream version) of each of a model's events named by global sequence: one read of the event store's
    /// own index, in the page's workspace (the session is the workspace's tenant). The model page asks it only for a model
    /// the caller may read; no endpoint answers it, since the API's history is paged by revision.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, long>> RevisionsOf(HttpContext http, Guid modelId, IReadOnlyList<long> sequences)
    {
        if (sequences.Count == 0) return new Dictionary<long, long>();
        await using var session = http.RequestServices.GetRequiredService<WorkspaceStore>().QuerySession();
        var wanted = sequences.ToArray();
        var found = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == modelId && e.Sequence.IsOneOf(wanted))
            .ToListAsync(http.RequestAborted);
        return found.ToDictionary(e => e.Sequence, e => e.Version);
    }

    /// <summary><c>GET /api/v1/models/{name}/deployments</c> (asOf, cursor): each version's stage intervals and reported deployments.</summary>
    public Task<ConsoleAnswer<Wire.DeploymentHistoryPage>> Deployments(HttpContext http, string name, IDictionary<string, StringValues> query) =>
        Call<Wire.DeploymentHistoryPage>(http, $"/api/v1/models/{Uri.EscapeDataString(name)}/deployments", query, sub =>
            Api.Deployments.GetDeploymentHistoryEndpoint.Get(name, sub, http.RequestServices.GetRequiredService<WorkspaceStore>(),
                http.RequestServices.GetRequiredService<NpgsqlDataSource>(), http.RequestServices.GetRequiredService<PastModels>()), name);

    /// <summary><c>GET /api/v1/registry/metadata-schema</c>: the workspace's metadata standard (a registry-wide read).</summary>
    public Task<ConsoleAnswer<Wire.MetadataSchemaInfo>> RegistryMetadataSchema(HttpContext http) =>
        Call<Wire.MetadataSchemaInfo>(http, "/api/v1/registry/metadata-schema", new Dictionary<string, StringValues>(), sub =>
            Api.Registry.MetadataSchema.RegistryMetadataSchemaEndpoints.Get(sub, http.RequestServices.GetRequiredService<WorkspaceStore>()));

    /// <summary>
    /// The models a key scoped to models may read, as <c>GET /api/v1/models/{name}</c> reads each (the model view, now):
    /// those its grants name, by id or by name; a deleted one is gone.
    /// </summary>
    public async Task<IReadOnlyList<ModelView>> GrantedModels(HttpContext http)
    {
        var grants = AccessClaims.GrantsOf(http.User).Where(g => !g.RegistryWide && Roles.Implies(g.Role, Roles.Reader)).ToList();
        await using var session = http.RequestServices.GetRequiredService<WorkspaceStore>().QuerySession();
        var models = new List<ModelView>();
        var ids = grants.Where(g => g.ModelId is not null).Select(g => g.ModelId!.Value).Distinct().ToList();
        if (ids.Count > 0) models.AddRange(await session.LoadManyAsync<ModelView>(http.RequestAborted, ids));
        foreach (var name in grants.Where(g => g.ModelName is not null).Select(g => g.ModelName!).Distinct(StringComparer.Ordinal))
            if (await session.FindModel(name, http.RequestAborted) is { } model) models.Add(model);
        return models.DistinctBy(m => m.Id).OrderBy(m => m.NormalizedName, StringComparer.Ordinal).ToList();
    }

    // The audit pages (issue 15): the API's audit endpoints, each behind the audit policy asked first, as their [Authorize] asks it.

    /// <summary>Whether the caller may read the audit log: the API's audit policy (auditor or admin, workspace-wide).</summary>
    public async Task<bool> ReadsAudit(HttpContext http) =>
        (await authorization.AuthorizeAsync(http.User, null, Policies.Audit)).Succeeded;

    /// <summary>The answer the API gives a caller the audit policy refuses, in its words.</summary>
    public static ConsoleAnswer<T> AuditRefused<T>(HttpContext http) where T : class => new(null, StatusCodes.Status403Forbidden, "Forbidden",
        $"{AccessClaims.ActorOf(http.User) ?? "The caller"} lacks the role this call needs ({Roles.Auditor}, {ModelAccessHandler.WhereGranted(Roles.Auditor, http)}).");

    /// <summary><c>GET /api/v1/audit</c> as a JSON page (from, to, actor, model, type, cursor, limit).</summary>
    public async Task<ConsoleAnswer<Wire.AuditPage>> Audit(HttpContext http, IDictionary<string, StringValues> query)
    {
        if (!await ReadsAudit(http)) return AuditRefused<Wire.AuditPage>(http);
        // The page shows JSON pages only; the downloads run the export itself (AuditExportModel).
        var page = new Dictionary<string, StringValues>(query) { ["format"] = "json" };
        return await Call<Wire.AuditPage>(http, "/api/v1/audit", page, sub => QueryAuditLogEndpoint.Get(sub,
            http.RequestServices.GetRequiredService<WorkspaceStore>(), http.RequestServices.GetRequiredService<PointResolver>()));
    }

    /// <summary>
    /// <c>GET /api/v1/audit</c> as an export (the query carries <c>format=csv</c> or <c>ndjson</c>): the API's own streaming
    /// result, not run yet, for the caller to execute on its response (its rows then go from PostgreSQL to the download
    /// as the export writes them, never collected here); or the endpoint's refusal.
    /// </summary>
    public async Task<ConsoleAnswer<IResult>> ExportAudit(HttpContext http, IDictionary<string, StringValues> query)
    {
        if (!await ReadsAudit(http)) return AuditRefused<IResult>(http);
        var sub = SubRequest(http, "/api/v1/audit", query, null);
        var result = await QueryAuditLogEndpoint.Get(sub, http.RequestServices.GetRequiredService<WorkspaceStore>(),
            http.RequestServices.GetRequiredService<PointResolver>());
        if (result is AuditExport)
        {
            foreach (var header in new[] { QueryAuditLogEndpoint.CompleteThroughHeader, QueryAuditLogEndpoint.HighWaterMarkHeader })
                http.Response.Headers[header] = sub.Response.Headers[header];
            return new ConsoleAnswer<IResult>(result, StatusCodes.Status200OK, null, null);
        }
        var refusal = await Answer<object>(http, sub, _ => Task.FromResult(result));
        return new ConsoleAnswer<IResult>(null, refusal.Status, refusal.Title, refusal.Detail);
    }

    /// <summary><c>GET /api/v1/audit/verify</c> (full): the chain's verdict and what it covered.</summary>
    public async Task<ConsoleAnswer<Wire.ChainVerification>> VerifyChain(HttpContext http, IDictionary<string, StringValues> query)
    {
        if (!await ReadsAudit(http)) return AuditRefused<Wire.ChainVerification>(http);
        return await Call<Wire.ChainVerification>(http, "/api/v1/audit/verify", query, sub => VerifyAuditChainEndpoint.Get(sub,
            http.RequestServices.GetRequiredService<WorkspaceStore>(), http.RequestServices.GetRequiredService<CheckpointSigner>()));
    }

    /// <summary><c>GET /api/v1/audit/checkpoints</c> (cursor, limit): the signed checkpoints, newest first.</summary>
    public async Task<ConsoleAnswer<Wire.CheckpointPage>> Checkpoints(HttpContext http, IDictionary<string, StringValues> query)
    {
        if (!await ReadsAudit(http)) return AuditRefused<Wire.CheckpointPage>(http);
        return await Call<Wire.CheckpointPage>(http, "/api/v1/audit/checkpoints", query, sub => ListAuditCheckpointsEndpoint.Get(sub,
            http.RequestServices.GetRequiredService<WorkspaceStore>()));
    }

    /// <summary><c>GET /api/v1/audit/public-key</c>: the PEM and its key id (null when the audit policy refuses the caller).</summary>
    public async Task<(string Pem, string KeyId)?> PublicKey(HttpContext http)
    {
        if (!await ReadsAudit(http)) return null;
        var sub = SubRequest(http, "/api/v1/audit/public-key", new Dictionary<string, StringValues>(), null);
        using var body = new MemoryStream();
        sub.Response.Body = body;
        await GetAuditPublicKeyEndpoint.Get(sub, http.RequestServices.GetRequiredService<CheckpointSigner>()).ExecuteAsync(sub);
        if (sub.Response.StatusCode != StatusCodes.Status200OK) return null;
        return (System.Text.Encoding.UTF8.GetString(body.ToArray()), sub.Response.Headers[GetAuditPublicKeyEndpoint.KeyIdHeader].ToString());
    }

    internal static HttpContext SubRequest(HttpContext http, string path, IDictionary<string, StringValues> query, string? name)
    {
        var sub = new DefaultHttpContext { RequestServices = http.RequestServices, User = http.User, RequestAborted = http.RequestAborted };
        sub.Features.Set<IWorkspaceFeature>(new WorkspaceFeature(http.Workspace()));
        sub.Request.Method = HttpMethods.Get;
        sub.Request.Path = path;
        sub.Request.Query = new QueryCollection(new Dictionary<string, StringValues>(query.Where(q => !StringValues.IsNullOrEmpty(q.Value))));
        if (name is not null) sub.Request.RouteValues["name"] = name;
        return sub;
    }

    private static Task<ConsoleAnswer<T>> Call<T>(HttpContext http, string path, IDictionary<string, StringValues> query,
        Func<HttpContext, Task<IResult>> endpoint, string? name = null) where T : class =>
        Answer<T>(http, SubRequest(http, path, query, name), endpoint);

    /// <summary>Runs an endpoint on a request built by <see cref="SubRequest"/>: its value, or its refusal as the page shows it.</summary>
    internal static async Task<ConsoleAnswer<T>> Answer<T>(HttpContext http, HttpContext sub, Func<HttpContext, Task<IResult>> endpoint) where T : class
    {
        using var body = new MemoryStream();
        sub.Response.Body = body;
        var result = await endpoint(sub);
        await result.ExecuteAsync(sub);
        await sub.Response.BodyWriter.FlushAsync(http.RequestAborted);
        body.Position = 0;
        // 200, and the 201 and 202 of the commands the admin pages call.
        if (sub.Response.StatusCode is >= 200 and < 300)
            return new ConsoleAnswer<T>(await JsonSerializer.DeserializeAsync<T>(body, Json.Options, http.RequestAborted), sub.Response.StatusCode, null, null);
        string? title = null, detail = null;
        try
        {
            using var problem = await JsonDocument.ParseAsync(body, cancellationToken: http.RequestAborted);
            title = problem.RootElement.TryGetProperty("title", out var t) ? t.GetString() : null;
            detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
        }
        catch (JsonException) { }
        return new ConsoleAnswer<T>(null, sub.Response.StatusCode, title, detail);
    }
}
