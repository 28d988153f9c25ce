using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Webhooks;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Feed;

/// <summary>
/// The pull feed (<c>GET /api/v1/feed?after=&amp;wait=&amp;limit=&amp;types=&amp;model=</c>), for consumers that cannot receive
/// webhooks: the workspace's settled model events after a global sequence, as a CloudEvents 1.0 JSON batch, with the
/// sequence to pass as <c>after</c> next in the <c>Registry-Feed-Next</c> header and a <c>Link rel="next"</c>.
/// </summary>
public static class GetFeedEndpoint
{
    public const string ContentType = "application/cloudevents-batch+json";
    public const string NextHeader = "Registry-Feed-Next";
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int MaxWaitSeconds = 30;
    /// <summary>How often a long poll reads the settled horizon while nothing is there: one small statement each time.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(75);
    private const int MaxTypesLength = 2048;

    /// <summary>The feed's CloudEvents <c>id</c>: the workspace and the event's sequence, the same every time it is served.</summary>
    public static string EventId(WorkspaceId workspace, long sequence) => $"{workspace.Slug}-{sequence.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The workspace's model events after <c>after</c> (default 0), at most <c>limit</c>, of the <c>types</c> named (default: every
    /// type a webhook delivers) and of the <c>model</c> named (default: every model the caller may read). Only settled events:
    /// none is served while a lower sequence may still commit, so resuming from the next cursor never misses one. With
    /// <c>wait</c> (seconds, up to 30), an answer that would be empty waits until something settles, or answers empty then.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<JsonElement[]>(StatusCodes.Status200OK, ContentType)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound)]
    [WolverineGet("/api/v1/feed", OperationId = "GetFeed")]
    public static async Task<IResult> Get(HttpContext http, FeedReader feed, WebhookEventTypes types)
    {
        // Only for its name lookups; not a parameter, which the OpenAPI description reads as a command (If-Match, 409/412).
        var models = http.RequestServices.GetRequiredService<ModelCommands>();
        var ct = http.RequestAborted;
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        long after = 0;
        if (query["after"].ToString() is { Length: > 0 } rawAfter && !long.TryParse(rawAfter, NumberStyles.None, CultureInfo.InvariantCulture, out after))
            errors.Add(("after", "after is a global sequence (a whole number from 0), as the Registry-Feed-Next header of an earlier answer gives it."));
        var wait = 0;
        if (query["wait"].ToString() is { Length: > 0 } rawWait
            && !(int.TryParse(rawWait.EndsWith('s') ? rawWait[..^1] : rawWait, NumberStyles.None, CultureInfo.InvariantCulture, out wait) && wait <= MaxWaitSeconds))
            errors.Add(("wait", $"wait is a number of seconds from 0 to {MaxWaitSeconds}."));
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);
        var wanted = new List<string>();
        if (query["types"].ToString() is { Length: > 0 } rawTypes)
        {
            if (rawTypes.Length > MaxTypesLength) errors.Add(("types", $"types is a comma-separated list of at most {MaxTypesLength} characters."));
            else
                foreach (var type in rawTypes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal))
                {
                    if (types.Names.Contains(type)) wanted.Add(type);
                    else errors.Add(("types", $"'{(type.Length > 60 ? type[..60] + "…" : type)}' is not a feed event type; the types are: {string.Join(", ", types.Names)}."));
                }
        }
        var modelName = query["model"].ToString();
        if (modelName.Length > 0 && InputRules.CheckModelName(modelName) is { } badName) errors.Add(("model", badName));
        if (errors.Count > 0) return Problems.Validation(errors);

        var workspace = http.Workspace();
        var readable = await ReadableModels(http, workspace, models, ct);
        IReadOnlyList<Guid>? shown = readable;
        if (modelName.Length > 0)
        {
            // A model the caller may not read answers exactly as one that does not exist.
            if (await models.ModelIdOf(workspace, modelName, ct) is not { } id || readable is not null && !readable.Contains(id))
                return Problems.ModelNotFound(modelName);
            shown = [id];
        }
        var filter = new FeedFilter(wanted, shown);

        var clock = Stopwatch.StartNew();
        var budget = TimeSpan.FromSeconds(wait);
        var scanned = after;
        while (true)
        {
            var settled = await feed.SettledAsync(workspace, ct);
            if (settled > scanned)
            {
                var events = await feed.ReadAsync(workspace, scanned, settled, filter, limit, ct);
                // A full page resumes after its last event; a shorter one has seen every event up to the settled horizon.
                if (events.Count > 0) return Answer(http, workspace, events, events.Count == limit ? events[^1].Sequence : settled);
                scanned = settled;
            }
            var left = budget - clock.Elapsed;
            if (left <= TimeSpan.Zero) return Answer(http, workspace, [], scanned);
            await Task.Delay(left < PollInterval ? left : PollInterval, ct);
        }
    }

    /// <summary>The models a caller scoped to models may read (by id); null for a reader of the whole workspace.</summary>
    private static async Task<List<Guid>?> ReadableModels(HttpContext http, WorkspaceId workspace, ModelCommands models, CancellationToken ct)
    {
        var grants = AccessClaims.GrantsOf(http.User).Where(g => Roles.Implies(g.Role, Roles.Reader)).ToList();
        if (grants.Any(g => g.RegistryWide)) return null;
        var ids = grants.Select(g => g.ModelId).OfType<Guid>().ToHashSet();
        foreach (var name in grants.Select(g => g.ModelName).OfType<string>().Distinct(StringComparer.Ordinal))
            if (await models.ModelIdOf(workspace, name, ct) is { } id) ids.Add(id);
        return ids.ToList();
    }

    private static IResult Answer(HttpContext http, WorkspaceId workspace, List<DeliveredEvent> events, long next)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte((byte)'[');
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0) buffer.WriteByte((byte)',');
            buffer.Write(CloudEventEnvelope.Write(EventId(workspace, events[i].Sequence), events[i]));
        }
        buffer.WriteByte((byte)']');
        var cursor = next.ToString(CultureInfo.InvariantCulture);
        var parameters = http.Request.Query.Where(q => !string.Equals(q.Key, "after", StringComparison.OrdinalIgnoreCase)).ToDictionary(q => q.Key, q => q.Value);
        parameters["after"] = cursor;
        var link = WorkspaceAddressing.Link(http, QueryHelpers.AddQueryString("/api/v1/feed", parameters));
        http.Response.Headers[NextHeader] = cursor;
        http.Response.Headers.Link = $"<{link}>; rel=\"next\"";
        http.Response.Headers.CacheControl = "no-store";
        return Results.Bytes(buffer.ToArray(), ContentType);
    }
}
