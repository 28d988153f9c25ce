using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.Infrastructure;

public static class Paging
{
    public static int Limit(StringValues raw, int defaultLimit, int maxLimit, List<(string, string)> errors)
    {
        if (StringValues.IsNullOrEmpty(raw)) return defaultLimit;
        if (int.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 && limit <= maxLimit)
            return limit;
        errors.Add(("limit", $"limit is a whole number from 1 to {maxLimit}."));
        return defaultLimit;
    }
}
