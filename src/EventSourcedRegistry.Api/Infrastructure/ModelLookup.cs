using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;

namespace EventSourcedRegistry.Api.Infrastructure;

public static class ModelLookup
{
    /// <summary>One indexed read of the inline view; never a stream replay.</summary>
    public static Task<ModelView?> FindModel(this IQuerySession session, string name, CancellationToken ct)
    {
        var normalized = InputRules.NormalizeName(name);
        return session.Query<ModelView>().FirstOrDefaultAsync(x => x.NormalizedName == normalized, ct);
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
