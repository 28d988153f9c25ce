using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Listing;

public sealed record ModelPage(IReadOnlyList<ModelView> Items, string? NextCursor);

public static class ListModelsEndpoint
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>
    /// Models by name, keyset-paged over the indexed normalized name. Filters: <c>prefix</c>, <c>tag=key:value</c>
    /// (repeatable, all must match), <c>stage</c> (has a version in it), <c>includeArchived</c> (archived models are hidden by default).
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.ModelPage>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models", OperationId = "ListModels")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceStore store, Lifecycle.Lifecycle lifecycle, TagListing tagListing)
    {
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);

        // The first tag drives the query (see PageQuery).
        var tags = new List<(string Key, string Value)>();
        foreach (var tag in query["tag"])
        {
            var colon = tag?.IndexOf(':') ?? -1;
            if (tag is null || colon <= 0) { errors.Add(("tag", "A tag filter is key:value, e.g. tag=team:fraud.")); continue; }
            tags.Add((tag[..colon], tag[(colon + 1)..]));
        }

        var prefix = query["prefix"].ToString();
        if (prefix.Length > InputRules.MaxNameLength) errors.Add(("prefix", $"A prefix has at most {InputRules.MaxNameLength} characters."));

        string? stage = null;
        var stageRaw = query["stage"].ToString();
        if (stageRaw.Length > 0)
        {
            stage = lifecycle.Resolve(stageRaw);
            if (stage is null) errors.Add(("stage", $"'{stageRaw}' is not a stage. The stages are: {string.Join(", ", lifecycle.Stages)}."));
        }

        var includeArchived = query["includeArchived"].ToString();
        if (includeArchived.Length > 0 && !bool.TryParse(includeArchived, out _))
            errors.Add(("includeArchived", "includeArchived is true or false."));

        string? after = null;
        var cursor = query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            after = DecodeCursor(cursor);
            if (after is null) errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var (sql, args) = PageQuery(store.Workspace.TenantId, tags, prefix.Length > 0 ? InputRules.NormalizeName(prefix) : null, stage,
            string.Equals(includeArchived, "true", StringComparison.OrdinalIgnoreCase), after, limit);
        var page = await tagListing.QueryAsync(store, sql, args, byTag: tags.Count > 0, http.RequestAborted);

        var items = page.Take(limit).ToList();
        var next = page.Count > limit ? EncodeCursor(items[^1].NormalizedName) : null;
        // A different tag whose key/value hashes the same (an MD5 collision) is dropped here; the cursor still
        // continues after the last row read, so paging stays complete.
        if (tags.Count > 0)
            items.RemoveAll(item => !(item.Tags.TryGetValue(tags[0].Key, out var value) && value == tags[0].Value));
        return Results.Json(new ModelPage(items, next), Json.Options);
    }

    /// <summary>
    /// The SQL of one page (Marten's <c>?</c> placeholders) and its arguments, in the workspace <paramref name="tenant"/>: the
    /// first <paramref name="limit"/> + 1 models in name order after <paramref name="after"/>, filtered. Without a tag it walks
    /// the workspace's range of <see cref="ModelTagIndex.TenantNameIndex"/> in name order and stops after the page, however many
    /// models the workspace or the store holds.
    /// </summary>
    public static (string Sql, object[] Args) PageQuery(string tenant, IReadOnlyList<(string Key, string Value)> tags, string? normalizedPrefix,
        string? stage, bool includeArchived, string? after, int limit)
    {
        var where = new List<string>();
        var args = new List<object>();

        // The first tag drives the query: its model_tags rows come off the (pair hash, name) index in name order, so a
        // page costs its own rows, not every match.
        var name = tags.Count > 0 ? "t.normalized_name" : "d.normalized_name";
        // The tag rows of the request's workspace only (their index leads with it), joined to that workspace's views.
        var from = tags.Count > 0
            ? $"{RegistryTables.ModelTags} as t join {RegistryTables.ModelView} as d on d.tenant_id = t.tenant_id and d.id = t.model_id"
            : $"{RegistryTables.ModelView} as d";
        if (tags.Count > 0)
        {
            where.Add("t.tenant_id = ?");
            args.Add(tenant);
        }
        for (var i = 0; i < tags.Count; i++)
        {
            var (key, value) = tags[i];
            if (i == 0)
            {
                // Only the hash in SQL (a key/value condition beside it would shrink the planner's estimate below a
                // page and make it sort every match); the page's items are checked against the tag by the caller.
                where.Add($"t.pair_hash = {string.Format(ModelTagIndex.PairHashSql, "?", "?")}");
                args.AddRange([key, value]);
            }
            else
            {
                // Checked on each row the first tag yields (a join or semi-join here would let the planner drive from it).
                where.Add("d.data -> 'tags' ->> ? = ?");
                args.AddRange([key, value]);
            }
        }

        if (normalizedPrefix is { Length: > 0 })
        {
            // Both spellings: the pattern index serves the like, the range lets a walk in name order stop early.
            where.Add($"{name} like ? escape '\\' and {name} >= ?");
            args.Add(EscapeLike(normalizedPrefix) + "%");
            args.Add(normalizedPrefix);
        }

        if (stage is not null)
        {
            where.Add("jsonb_exists(d.data -> 'versionsByStage', ?)");
            args.Add(stage);
        }

        if (!includeArchived)
            where.Add("coalesce((d.data ->> 'archived')::boolean, false) = false");

        if (after is not null)
        {
            where.Add($"{name} > ?");
            args.Add(after);
        }
        // Raw SQL gets no tenant filter from Marten: the workspace's rows only, and a constant the planner can use.
        where.Insert(0, "d.tenant_id = ?");
        args.Insert(0, tenant);

        return ($"select d.data from {from} where {string.Join(" and ", where)} order by {name} limit {limit + 1}", args.ToArray());
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private static string EncodeCursor(string name) => Convert.ToBase64String(Encoding.UTF8.GetBytes(name)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var name = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            return InputRules.CheckModelName(name) is null ? name : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Connections for tag-filtered lists, with <c>enable_sort</c> off: the tag's range of the model_tags index is read in
/// name order and the page stops after its rows. With sorting allowed, the planner, which cannot know how many models
/// carry a tag and how many of them the other filters keep, may fetch and sort every match instead (milliseconds
/// per thousand matches). Only these queries use the pool.
/// </summary>
public sealed class TagListing(NpgsqlDataSource data) : IAsyncDisposable
{
    public NpgsqlDataSource Data { get; } = data;

    /// <summary>A model list's page: on this pool when it filters by tag, else on the workspace's ordinary session.</summary>
    public async Task<IReadOnlyList<ModelView>> QueryAsync(WorkspaceStore store, string sql, object[] args, bool byTag, CancellationToken ct)
    {
        if (!byTag)
        {
            await using var plain = store.QuerySession();
            return await plain.QueryAsync<ModelView>(sql, ct, args);
        }
        await using var connection = await Data.OpenConnectionAsync(ct);
        await using var session = store.QuerySession(Marten.Services.SessionOptions.ForConnection(connection));
        return await session.QueryAsync<ModelView>(sql, ct, args);
    }

    public static TagListing For(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 20 };
        builder.Options = $"{builder.Options} -c enable_sort=off".Trim();
        return new TagListing(NpgsqlDataSource.Create(builder.ConnectionString));
    }

    public ValueTask DisposeAsync() => Data.DisposeAsync();
}
