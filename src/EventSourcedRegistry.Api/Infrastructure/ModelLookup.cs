using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.Infrastructure;

public static class ModelLookup
{
    /// <summary>One indexed read of the inline view; never a stream replay.</summary>
    public static Task<ModelView?> FindModel(this IQuerySession session, string name, CancellationToken ct)
    {
        var normalized = InputRules.NormalizeName(name);
        return session.Query<ModelView>().FirstOrDefaultAsync(x => x.NormalizedName == normalized, ct);
    }

    /// <summary>
    /// The model's id, name and revision, read from its view without deserializing the rest: a long history's view lists
    /// every version it ever had, and a read of one version needs none of them. Null when there is no such model.
    /// </summary>
    public static async Task<(Guid Id, string Name, long Revision)?> FindModelHead(this IQuerySession session, string name, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select d.id, d.data ->> 'name', coalesce((d.data ->> 'revision')::bigint, 0) " +
            $"from {RegistryTables.ModelView} as d where d.tenant_id = $1 and d.normalized_name = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = session.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = InputRules.NormalizeName(name) });
        await using var reader = await session.ExecuteReaderAsync(command, ct);
        return await reader.ReadAsync(ct) ? (reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2)) : null;
    }

    /// <summary>Parses a version number from the route; null when it is not a positive whole number.</summary>
    public static int? ParseVersion(string raw) =>
        int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : null;

    public static IResult BadVersion(string raw) =>
        Problems.Problem(StatusCodes.Status400BadRequest, "Invalid version",
            $"'{(raw.Length > 40 ? raw[..40] + "…" : raw)}' is not a version number; versions are whole numbers from 1.");
}
