namespace EventSourcedRegistry.Mlflow.Search;

/// <summary>
/// Why a search request was refused: MLflow answers it as <c>INVALID_PARAMETER_VALUE</c> (400). The messages follow
/// MLflow's own wording where it has one, so a client's logs read the same against either server.
/// </summary>
public sealed record SearchProblem(string Message)
{
    public const string ErrorCode = "INVALID_PARAMETER_VALUE";

    public const int ModelsMaxResults = 1000;
    public const int VersionsMaxResults = 200_000;

    /// <summary>
    /// <c>max_results</c> as the query string sends it: absent means MLflow's default (100 models; 10,000 versions),
    /// otherwise a whole number from 1 to the entity's limit.
    /// </summary>
    public static bool TryReadMaxResults(string? text, SearchEntity entity, out int maxResults, out SearchProblem? problem)
    {
        var limit = entity == SearchEntity.RegisteredModels ? ModelsMaxResults : VersionsMaxResults;
        maxResults = entity == SearchEntity.RegisteredModels ? 100 : 10_000;
        problem = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            && value >= 1 && value <= limit)
        {
            maxResults = value;
            return true;
        }
        problem = new SearchProblem(
            $"Invalid value \"{Shorten(text)}\" for parameter 'max_results' supplied: it must be an integer from 1 to {limit}.");
        return false;
    }

    /// <summary>Echoes of client input stay short: a refusal never carries a megabyte back.</summary>
    public static string Shorten(string text)
    {
        if (text.Length <= 100) return text;
        var cut = char.IsHighSurrogate(text[99]) ? 99 : 100;
        return text[..cut] + "…";
    }
}
