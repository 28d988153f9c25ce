using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
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
    [WolverineGet("/api/v1/models", OperationId = "ListModels")]
    public static async Task<IResult> Get(HttpContext http, IDocumentStore store, Lifecycle.Lifecycle lifecycle)
    {
        await using var session = store.QuerySession();
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);

        var where = new List<string>();
        var args = new List<object>();

        // The first tag drives the query: its model_tags rows come off the (pair hash, name) index in name order, so a
        // page costs its own rows, not every match. Further tags are point lookups on the same table.
        var tags = new List<(string Key, string Value)>();
        foreach (var tag in query["tag"])
        {
            var colon = tag?.IndexOf(':') ?? -1;
            if (tag is null || colon <= 0) { errors.Add(("tag", "A tag filter is key:value, e.g. tag=team:fraud.")); continue; }
            tags.Add((tag[..colon], tag[(colon + 1)..]));
        }
        var name = tags.Count > 0 ? "t.normalized_name" : "d.normalized_name";
        var from = tags.Count > 0
            ? $"{RegistryTables.ModelTags} as t join {RegistryTables.ModelView} as d on d.id = t.model_id"
            : $"{RegistryTables.ModelView} as d";
        for (var i = 0; i < tags.Count; i++)
        {
            var (key, value) = tags[i];
            if (i == 0)
            {
                where.Add($"t.pair_hash = {string.Format(ModelTagIndex.PairHashSql, "?", "?")} and t.tag_key = ? and t.tag_value = ?");
                args.AddRange([key, value, key, value]);
            }
            else
            {
                where.Add($"exists (select from {RegistryTables.ModelTags} as o where o.model_id = d.id and o.tag_key = ? and o.tag_value = ?)");
                args.AddRange([key, value]);
            }
        }

        var prefix = query["prefix"].ToString();
        if (prefix.Length > InputRules.MaxNameLength) errors.Add(("prefix", $"A prefix has at most {InputRules.MaxNameLength} characters."));
        else if (prefix.Length > 0)
        {
            // Both spellings: the pattern index serves the like, the range lets a walk in name order stop early.
            var normalizedPrefix = InputRules.NormalizeName(prefix);
            where.Add($"{name} like ? escape '\\' and {name} >= ?");
            args.Add(EscapeLike(normalizedPrefix) + "%");
            args.Add(normalizedPrefix);
        }

        var stageRaw = query["stage"].ToString();
        if (stageRaw.Length > 0)
        {
            if (lifecycle.Resolve(stageRaw) is { } stage)
            {
                where.Add("jsonb_exists(d.data -> 'versionsByStage', ?)");
                args.Add(stage);
            }
            else errors.Add(("stage", $"'{stageRaw}' is not a stage. The stages are: {string.Join(", ", lifecycle.Stages)}."));
        }

        var includeArchived = query["includeArchived"].ToString();
        if (includeArchived.Length > 0 && !bool.TryParse(includeArchived, out _))
            errors.Add(("includeArchived", "includeArchived is true or false."));
        if (!string.Equals(includeArchived, "true", StringComparison.OrdinalIgnoreCase))
            where.Add("coalesce((d.data ->> 'archived')::boolean, false) = false");

        var cursor = query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            if (DecodeCursor(cursor) is { } after)
            {
                where.Add($"{name} > ?");
                args.Add(after);
            }
            else errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var sql = $"select d.data from {from}"
                  + (where.Count > 0 ? " where " + string.Join(" and ", where) : "")
                  + $" order by {name} limit {limit + 1}";
        var page = await session.QueryAsync<ModelView>(sql, http.RequestAborted, args.ToArray());

        var items = page.Take(limit).ToList();
        var next = page.Count > limit ? EncodeCursor(items[^1].NormalizedName) : null;
        return Results.Json(new ModelPage(items, next), Json.Options);
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
