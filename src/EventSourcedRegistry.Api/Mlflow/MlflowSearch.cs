using System.Globalization;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Models;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>What a search filter asks for, as far as this seam understands it: an exact model name, or everything.</summary>
public sealed record MlflowSearchPlan(string? Name);

/// <summary>
/// The seam the search filter parser (<c>EventSourcedRegistry.Mlflow.Search</c>, built separately) plugs into:
/// <see cref="PlanModels"/> and <see cref="PlanVersions"/> take the raw filter string and answer a plan or MLflow's 400.
/// Until the parser lands they understand only what needs no parser: no filter, the clause the client always appends to
/// model searches (<c>tag.`mlflow.prompt.is_prompt` != 'true'</c>), and one <c>name = '…'</c>; any other filter is refused
/// with INVALID_PARAMETER_VALUE saying so (never silently ignored). Order is MLflow's default (name ascending, then
/// version descending); only <c>name ASC</c> is taken as order_by. Page tokens are the reference server's
/// (base64 of <c>{"offset": N}</c>).
/// </summary>
public static class MlflowSearch
{
    public const int MaxModelResults = 1000;
    public const int MaxVersionResults = 200_000;
    private const string PromptClause = "tag.`mlflow.prompt.is_prompt` != 'true'";
    private const string PromptTag = "mlflow.prompt.is_prompt";

    public static (MlflowSearchPlan? Plan, IResult? Error) PlanModels(string? filter) => Plan(filter, allowPromptClause: true);

    public static (MlflowSearchPlan? Plan, IResult? Error) PlanVersions(string? filter) => Plan(filter, allowPromptClause: false);

    private static (MlflowSearchPlan?, IResult?) Plan(string? filter, bool allowPromptClause)
    {
        var clauses = (filter ?? "").Split(" AND ", StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (allowPromptClause) clauses.RemoveAll(c => c == PromptClause);
        if (clauses.Count == 0) return (new MlflowSearchPlan(null), null);
        if (clauses.Count == 1 && ExactName(clauses[0]) is { } name) return (new MlflowSearchPlan(name), null);
        return (null, MlflowErrors.Error(MlflowErrors.InvalidParameterValue,
            $"This registry does not search by this filter yet (only name = '<name>' is supported): {Shown(filter!)}"));
    }

    /// <summary><c>name = 'x'</c> or <c>name='x'</c> (single or double quotes, no quote inside).</summary>
    private static string? ExactName(string clause)
    {
        if (!clause.StartsWith("name", StringComparison.Ordinal)) return null;
        var rest = clause[4..].TrimStart();
        if (!rest.StartsWith('=')) return null;
        var value = rest[1..].Trim();
        if (value.Length < 2 || value[0] is not ('\'' or '"') || value[^1] != value[0]) return null;
        var inner = value[1..^1];
        return inner.Contains('\'') || inner.Contains('"') ? null : inner;
    }

    public static (int Offset, IResult? Error) Offset(string? token)
    {
        if (string.IsNullOrEmpty(token)) return (0, null);
        try
        {
            using var document = JsonDocument.Parse(Convert.FromBase64String(token));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("offset", out var offset)
                && offset.TryGetInt32(out var value) && value >= 0)
                return (value, null);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return (0, MlflowErrors.Error(MlflowErrors.InvalidParameterValue, "Invalid page token, could not base64-decode"));
        }
        return (0, MlflowErrors.Error(MlflowErrors.InvalidParameterValue, "Invalid page token"));
    }

    /// <summary>The reference server's token, byte for byte: base64 of Python's <c>json.dumps({"offset": N})</c>.</summary>
    public static string Token(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset.ToString(CultureInfo.InvariantCulture)}}}"));

    public static (int MaxResults, IResult? Error) MaxResults(string? raw, int fallback, int limit)
    {
        if (string.IsNullOrEmpty(raw)) return (fallback, null);
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= limit) return (value, null);
        return (0, MlflowErrors.Error(MlflowErrors.InvalidParameterValue,
            $"Invalid value \"{Shown(raw)}\" for parameter 'max_results' supplied: it must be a whole number from 1 to {limit}."));
    }

    /// <summary>order_by beyond MLflow's default waits for the parser; <c>name ASC</c> is the default's first key and taken.</summary>
    public static IResult? OrderProblem(IReadOnlyList<string> orderBy) =>
        orderBy.All(o => o.Trim() is "name" or "name ASC")
            ? null
            : MlflowErrors.Error(MlflowErrors.InvalidParameterValue,
                $"This registry does not order searches by {Shown(string.Join(", ", orderBy))} yet; leave order_by out or use 'name ASC'.");

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/registered-models/search", OperationId = "MlflowSearchRegisteredModels")]
    public static async Task<IResult> SearchModels(HttpContext http, WorkspaceStore store)
    {
        var query = http.Request.Query;
        var (max, badMax) = MaxResults(query["max_results"].LastOrDefault(), 100, MaxModelResults);
        if (badMax is not null) return badMax;
        var (plan, badFilter) = PlanModels(query["filter"].LastOrDefault());
        if (badFilter is not null) return badFilter;
        if (OrderProblem(query["order_by"].Where(o => o is not null).Select(o => o!).ToList()) is { } badOrder) return badOrder;
        var (offset, badToken) = Offset(query["page_token"].LastOrDefault());
        if (badToken is not null) return badToken;

        var ct = http.RequestAborted;
        await using var session = store.QuerySession();
        var models = session.Query<ModelView>().AsQueryable();
        if (plan!.Name is { } name)
        {
            var normalized = Validation.InputRules.NormalizeName(name);
            models = models.Where(m => m.NormalizedName == normalized);
        }
        // A model carrying the prompt tag as 'true' is a prompt, which model searches leave out; one without the tag matches.
        models = models.Where(m => m.MatchesSql("coalesce(d.data -> 'tags' ->> ?, '') <> 'true'", PromptTag));
        if (!MlflowAccess.ReadsEverything(http))
        {
            var (ids, names) = MlflowAccess.Readable(http);
            var idList = ids.ToArray();
            var nameList = names.ToArray();
            models = models.Where(m => idList.Contains(m.Id) || nameList.Contains(m.NormalizedName));
        }
        var page = await models.OrderBy(m => m.Name).Skip(offset).Take(max + 1).ToListAsync(ct);
        if (page.Count == 0) return MlflowJson.Empty();
        var shown = new List<MlflowRegisteredModel>();
        foreach (var model in page.Take(max)) shown.Add(await MlflowShapes.Model(session, model, ct));
        return MlflowJson.Ok(new { registered_models = shown, next_page_token = page.Count > max ? Token(offset + max) : null });
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/model-versions/search", OperationId = "MlflowSearchModelVersions")]
    public static async Task<IResult> SearchVersions(HttpContext http, WorkspaceStore store)
    {
        var query = http.Request.Query;
        var (max, badMax) = MaxResults(query["max_results"].LastOrDefault(), 10_000, MaxVersionResults);
        if (badMax is not null) return badMax;
        var (plan, badFilter) = PlanVersions(query["filter"].LastOrDefault());
        if (badFilter is not null) return badFilter;
        if (OrderProblem(query["order_by"].Where(o => o is not null).Select(o => o!).ToList()) is { } badOrder) return badOrder;
        var (offset, badToken) = Offset(query["page_token"].LastOrDefault());
        if (badToken is not null) return badToken;
        // Without a name the versions of every model are listed, which needs the parser's indexed plan: refused until then.
        if (plan!.Name is not { } name)
            return MlflowErrors.Error(MlflowErrors.InvalidParameterValue,
                "This registry searches model versions of one model only yet: give filter=name='<name>'.");

        var ct = http.RequestAborted;
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, ct);
        if (model is null || !MayRead(http, model)) return MlflowJson.Empty();
        var numbers = Enumerable.Range(1, model.LatestVersion).Reverse().Skip(offset).Take(max + 1).ToList();
        if (numbers.Count == 0) return MlflowJson.Empty();
        var views = await session.LoadManyAsync<ModelVersionView>(ct, numbers.Take(max).Select(v => ModelVersionView.Key(model.Id, v)).ToArray());
        var times = await MlflowTimes.LoadAsync(session, model.Id, ct);
        var versions = views.OrderByDescending(v => v.VersionNumber).Select(v => MlflowShapes.Version(model.Name, v, times, withAliases: false)).ToList();
        return MlflowJson.Ok(new { model_versions = versions, next_page_token = numbers.Count > max ? Token(offset + max) : null });
    }

    private static bool MayRead(HttpContext http, ModelView model)
    {
        if (MlflowAccess.ReadsEverything(http)) return true;
        var (ids, names) = MlflowAccess.Readable(http);
        return ids.Contains(model.Id) || names.Contains(model.NormalizedName);
    }

    private static string Shown(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
