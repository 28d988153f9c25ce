using System.Globalization;
using SortKey = EventSourcedRegistry.Mlflow.Search.SortKey;
using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Models.Listing;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Mlflow.Search;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>A search request read and checked: what to match, in which order, how many, from which position.</summary>
public sealed record MlflowSearchRequest(SearchFilter Filter, IReadOnlyList<SortKey> Keys, int MaxResults, IReadOnlyList<object>? After);

/// <summary>
/// <c>registered-models/search</c> and <c>model-versions/search</c> (docs/mlflow-search.md): the filter, order and page
/// token are read by <c>EventSourcedRegistry.Mlflow.Search</c> and answered by one SQL statement over the workspace's
/// views (<see cref="SearchSql"/>), with the caller's grants as a condition of the same statement, so a page, its size
/// and its next token only ever reflect rows the caller may read. Page tokens are keyset positions bound to the search
/// and the workspace (<see cref="PageTokens"/>). GET only, as on the reference server.
/// </summary>
public static class MlflowSearch
{
    /// <summary>The reference server's text for a max_results it does not take (errors.jsonl steps 26, 27).</summary>
    public static string MaxResultsMessage(string raw) =>
        $"Invalid value \"{SearchProblem.Shorten(raw)}\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'. " +
        "See the API docs for more information about request parameters.";

    /// <summary>
    /// Reads max_results (first, as the reference server does), filter, order_by and page_token; the refusal is
    /// MLflow's INVALID_PARAMETER_VALUE. Pure apart from the query collection.
    /// </summary>
    public static (MlflowSearchRequest? Request, IResult? Error) Read(IQueryCollection query, SearchEntity entity, string scope)
    {
        var limit = entity == SearchEntity.RegisteredModels ? SearchProblem.ModelsMaxResults : SearchProblem.VersionsMaxResults;
        var max = entity == SearchEntity.RegisteredModels ? 100 : 10_000;
        if (query["max_results"].LastOrDefault() is { Length: > 0 } raw)
        {
            if (!int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out max) || max > limit)
                return (null, Invalid(MaxResultsMessage(raw)));
            if (max < 1) return (null, Invalid($"Invalid value for max_results. It must be a positive integer, but got {max}"));
        }
        if (!FilterParser.TryParse(query["filter"].LastOrDefault(), entity, out var filter, out var problem)
            || !SearchOrder.TryParse(query["order_by"].ToArray(), entity, out var keys, out problem)
            || !PageTokens.TryDecode(query["page_token"].LastOrDefault(), filter, keys, scope, out var after, out problem))
            return (null, Invalid(problem!.Message));
        return (new MlflowSearchRequest(filter, keys, max, after), null);
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/registered-models/search", OperationId = "MlflowSearchRegisteredModels")]
    public static async Task<IResult> SearchModels(HttpContext http, WorkspaceStore store, TagListing tagListing)
    {
        var tenant = store.Workspace.TenantId;
        var (request, error) = Read(http.Request.Query, SearchEntity.RegisteredModels, tenant);
        if (error is not null) return error;
        var (filter, keys, max, _) = request!;

        var (sql, args, byTag) = ModelsQuery(tenant, request!, Grants(http));
        var rows = await tagListing.QueryAsync(store, sql, args, byTag, http.RequestAborted);
        if (rows.Count == 0) return MlflowJson.Empty();

        var page = rows.Take(max).ToList();
        await using var session = store.QuerySession();
        var times = await MlflowTimes.LoadManyAsync(session, page.Select(m => m.Id).ToList(), http.RequestAborted);
        var shown = await MlflowShapes.Models(session, page, times, http.RequestAborted);
        var last = times[page[^1].Id];
        var next = rows.Count > max
            ? PageTokens.Encode(filter, keys, keys.Select(k => k.Field switch
            {
                SortField.Name => (object)page[^1].NormalizedName,
                SortField.CreationTimestamp => last.Created,
                _ => last.Updated,
            }).ToList(), tenant)
            : null;
        return MlflowJson.Ok(new { registered_models = shown, next_page_token = next });
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/model-versions/search", OperationId = "MlflowSearchModelVersions")]
    public static async Task<IResult> SearchVersions(HttpContext http, WorkspaceStore store)
    {
        var tenant = store.Workspace.TenantId;
        var (request, error) = Read(http.Request.Query, SearchEntity.ModelVersions, tenant);
        if (error is not null) return error;
        var (filter, keys, max, after) = request!;

        var columns = SearchColumns.Versions("v", "m") with
        {
            CreationTimestamp = EventTime("min", tenant, "v.model_id", "v"),
            LastUpdatedTimestamp = EventTime("max", tenant, "v.model_id", "v"),
        };
        var args = new List<object> { tenant, tenant };
        // One JSON document per row: the version's view and its model's name (Marten reads the first column as the result).
        var sql = new StringBuilder(
            $"select jsonb_build_object('name', m.data ->> 'name', 'version', v.data) from {RegistryTables.ModelVersionView} as v " +
            $"join {RegistryTables.ModelView} as m on m.tenant_id = v.tenant_id and m.id = v.model_id where v.tenant_id = ? and m.tenant_id = ?");
        Complete(sql, args, Grants(http), filter, keys, after, max, columns, "m");

        await using var session = store.QuerySession();
        var rows = await session.QueryAsync<VersionRow>(sql.ToString(), http.RequestAborted, args.ToArray());
        if (rows.Count == 0) return MlflowJson.Empty();

        var page = rows.Take(max).ToList();
        var times = await MlflowTimes.LoadManyAsync(session, page.Select(r => r.Version.ModelId).ToList(), http.RequestAborted);
        var shown = page.Select(r => MlflowShapes.Version(r.Name, r.Version, times[r.Version.ModelId], withAliases: false)).ToList();
        var last = page[^1];
        var (created, updated) = times[last.Version.ModelId].Of(last.Version.VersionNumber);
        var next = rows.Count > max
            ? PageTokens.Encode(filter, keys, keys.Select(k => k.Field switch
            {
                SortField.Name => (object)Validation.InputRules.NormalizeName(last.Name),
                SortField.VersionNumber => (long)last.Version.VersionNumber,
                SortField.CreationTimestamp => created,
                _ => updated,
            }).ToList(), tenant)
            : null;
        return MlflowJson.Ok(new { model_versions = shown, next_page_token = next });
    }

    /// <summary>
    /// The statement of a model search: its SQL, parameters, and whether it drives from the model_tags index (then it
    /// runs on a <see cref="TagListing"/> connection). <paramref name="readable"/> is null for a caller who reads every model.
    /// </summary>
    public static (string Sql, object[] Args, bool ByTag) ModelsQuery(string tenant, MlflowSearchRequest request,
        (IReadOnlySet<Guid> Ids, IReadOnlySet<string> Names)? readable)
    {
        var (filter, keys, max, after) = request;
        // With a tags.k = 'v' clause and name order, the query drives from that pair's range of the model_tags index,
        // which is in name order: a page costs its own rows, not every match (as /api/v1/models?tag=).
        var tag = keys[0].Field == SortField.Name ? SearchSql.IndexableTag(filter) : null;
        var columns = SearchColumns.Models("d") with
        {
            CreationTimestamp = EventTime("min", tenant, "d.id", null),
            LastUpdatedTimestamp = EventTime("max", tenant, "d.id", null),
        };
        if (tag is not null) columns = columns with { NormalizedName = "t.normalized_name" };
        var args = new List<object>();
        var sql = new StringBuilder("select d.data from ");
        if (tag is { } pair)
        {
            sql.Append($"{RegistryTables.ModelTags} as t join {RegistryTables.ModelView} as d on d.tenant_id = t.tenant_id and d.id = t.model_id ")
                .Append($"where t.tenant_id = ? and d.tenant_id = ? and t.pair_hash = {string.Format(ModelTagIndex.PairHashSql, "?", "?")}");
            args.AddRange([tenant, tenant, pair.Key, pair.Value]);
        }
        else
        {
            sql.Append($"{RegistryTables.ModelView} as d where d.tenant_id = ?");
            args.Add(tenant);
        }
        Complete(sql, args, readable, filter, keys, after, max, columns, "d");
        return (sql.ToString(), args.ToArray(), tag is not null);
    }

    private static (IReadOnlySet<Guid> Ids, IReadOnlySet<string> Names)? Grants(HttpContext http) =>
        MlflowAccess.ReadsEverything(http) ? null : MlflowAccess.Readable(http);

    /// <summary>A version search row: the version's view and its model's name.</summary>
    public sealed record VersionRow(string Name, ModelVersionView Version);

    /// <summary>Adds the filter, the caller's grants, the page position, the order and the limit to a statement.</summary>
    private static void Complete(StringBuilder sql, List<object> args, (IReadOnlySet<Guid> Ids, IReadOnlySet<string> Names)? readable,
        SearchFilter filter, IReadOnlyList<SortKey> keys,
        IReadOnlyList<object>? after, int max, SearchColumns columns, string model)
    {
        var where = SearchSql.Where(filter, columns);
        sql.Append(" and ").Append(where.Sql);
        args.AddRange(where.Parameters);
        if (readable is var (ids, names))
        {
            // Only the models the caller's grants name: a scoped caller's results, counts and tokens show nothing else.
            sql.Append($" and ({model}.id = any(?) or {model}.normalized_name = any(?))");
            args.Add(ids.ToArray());
            args.Add(names.ToArray());
        }
        if (after is not null)
        {
            var position = SearchSql.After(keys, after, columns);
            sql.Append(" and ").Append(position.Sql);
            args.AddRange(position.Parameters);
        }
        // One row more than the page says whether another page follows.
        sql.Append($" order by {SearchSql.OrderBy(keys, columns)} limit {(max + 1).ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>
    /// A model's (or, with <paramref name="version"/>'s alias, one version's) first or last event time in epoch ms, read
    /// from the events as <see cref="MlflowTimes"/> reads them, so an order by time agrees with the times shown. The
    /// views keep no clock readings (replay must not depend on when it runs); this costs an index probe of the model's
    /// stream per row, paid only when a search orders by time.
    /// </summary>
    private static string EventTime(string aggregate, string tenant, string stream, string? version)
    {
        var touches = version is null
            ? ""
            : $" and e.type in ({MlflowTimes.VersionEventTypes}) and (e.data ->> 'version' = {version}.data ->> 'versionNumber' " +
              $"or e.data ->> 'previousVersion' = {version}.data ->> 'versionNumber')";
        // The tenant as a constant (partition pruning of mt_events); a literal because these expressions appear several
        // times in a statement (filter, order, page position) while placeholders are positional. A slug, quoted anyway.
        return $"(select floor(extract(epoch from {aggregate}(e.timestamp)) * 1000)::bigint from {RegistryStore.Schema}.mt_events as e " +
               $"where e.tenant_id = '{tenant.Replace("'", "''")}' and e.stream_id = {stream}{touches})";
    }

    private static IResult Invalid(string message) => MlflowErrors.Error(MlflowErrors.InvalidParameterValue, message);
}
