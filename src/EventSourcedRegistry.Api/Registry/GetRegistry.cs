using Microsoft.AspNetCore.Authorization;
using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Registry;

public sealed record RegistryModelState(
    string Model,
    Guid ModelId,
    bool Archived,
    IReadOnlyDictionary<string, List<int>> VersionsByStage,
    IReadOnlyDictionary<string, int> Aliases,
    IReadOnlyDictionary<string, int> Deployments);

public sealed record RegistryPage(IReadOnlyList<RegistryModelState> Items, string? NextCursor);

public static class GetRegistryEndpoint
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 1000;

    /// <summary>
    /// Every model's stages, aliases and deployments at a point in history (now, when none is asked), by the
    /// names the models had then, paged by name. Answered from the deployment-history intervals, never by
    /// replaying streams.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [WolverineGet("/api/v1/registry", OperationId = "GetRegistry")]
    public static async Task<IResult> Get(HttpContext http, NpgsqlDataSource data)
    {
        var ct = http.RequestAborted;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(http.Request.Query["limit"], DefaultLimit, MaxLimit, errors);
        (string Name, Guid Id)? after = null;
        if (http.Request.Query["cursor"].ToString() is { Length: > 0 } cursor)
        {
            after = DecodeCursor(cursor);
            if (after is null) errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var (point, problem) = await PointsInTime.Resolve(http.Request, data, ct);
        if (problem is not null) return problem;
        var sequence = point!.Sequence;

        var table = DeploymentHistory.QualifiedTable(RegistryStore.Schema);
        await using var command = data.CreateCommand(
            $"select model_id, subject from {table} where kind = '{DeploymentHistory.Kinds.Name}' " +
            "and entered_seq <= $1 and (left_seq is null or left_seq > $1) " +
            (after is null ? "" : "and (lower(subject), model_id) > ($2, $3) ") +
            $"order by lower(subject), model_id limit {limit + 1}");
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        if (after is { } a)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = a.Name });
            command.Parameters.Add(new NpgsqlParameter { Value = a.Id });
        }
        var names = new List<(Guid Id, string Name)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) names.Add((reader.GetGuid(0), reader.GetString(1)));

        var page = names.Take(limit).ToList();
        var held = await DeploymentHistoryQueries.HeldAt(data, RegistryStore.Schema, page.Select(n => n.Id).ToList(), sequence, ct);
        var byModel = held.ToLookup(i => i.ModelId);
        var items = page.Select(n => StateOf(n.Name, n.Id, byModel[n.Id])).ToList();
        var next = names.Count > limit ? EncodeCursor(page[^1].Name.ToLowerInvariant(), page[^1].Id) : null;
        return PastModel.Stamped(new RegistryPage(items, next), point);
    }

    public static RegistryModelState StateOf(string name, Guid id, IEnumerable<Interval> held)
    {
        var stages = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        var aliases = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var deployments = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var archived = false;
        foreach (var interval in held)
        {
            switch (interval.Kind)
            {
                case DeploymentHistory.Kinds.Stage:
                    if (!stages.TryGetValue(interval.Subject, out var versions)) stages[interval.Subject] = versions = [];
                    versions.Add(interval.Version!.Value);
                    versions.Sort();
                    break;
                case DeploymentHistory.Kinds.Alias:
                    aliases[interval.Subject] = interval.Version!.Value;
                    break;
                case DeploymentHistory.Kinds.Deployment:
                    deployments[EventSourcedRegistry.Models.ModelView.SlotOf(interval.Subject, interval.Target)] = interval.Version!.Value;
                    break;
                case DeploymentHistory.Kinds.Archived:
                    archived = true;
                    break;
            }
        }
        return new RegistryModelState(name, id, archived, stages, aliases, deployments);
    }

    private static string EncodeCursor(string name, Guid id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{name}\n{id:N}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string, Guid)? DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('\n');
            return parts.Length == 2 && Guid.TryParseExact(parts[1], "N", out var id) ? (parts[0], id) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
