using System.Text.RegularExpressions;

namespace EventSourcedRegistry.Validation;

/// <summary>
/// Shape rules for everything a client names. Each check returns null when the value is fine, otherwise a
/// sentence that says what is wrong, fit for a ProblemDetails <c>errors</c> entry.
/// </summary>
public static partial class InputRules
{
    public const int MaxNameLength = 128;
    public const int MaxTagKeyLength = 250;
    public const int MaxTagValueLength = 5000;
    public const int MaxAliasLength = 64;
    public const int MaxDescriptionLength = 5000;
    public const int MaxReasonLength = 2000;

    /// <summary>Names are unique regardless of case; this is the key the name index uses.</summary>
    public static string NormalizeName(string name) => name.ToLowerInvariant();

    public static string? CheckModelName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "A model name is required.";
        if (name.Length > MaxNameLength) return $"A model name has at most {MaxNameLength} characters; this one has {name.Length}.";
        if (name.Contains("..", StringComparison.Ordinal)) return "A model name may not contain '..'.";
        if (!char.IsLetterOrDigit(name[0])) return "A model name starts with a letter or a digit.";
        foreach (var c in name)
        {
            if (!(char.IsLetterOrDigit(c) || IsCombiningMark(c) || c is '.' or '_' or '-'))
                return $"A model name may hold only letters, digits, '.', '_' and '-'; '{Printable(c)}' is not allowed.";
        }
        return null;
    }

    public static string? CheckAlias(string? alias)
    {
        if (string.IsNullOrEmpty(alias)) return "An alias is required.";
        if (alias.Length > MaxAliasLength) return $"An alias has at most {MaxAliasLength} characters.";
        if (!char.IsAsciiLetter(alias[0])) return "An alias starts with a letter.";
        foreach (var c in alias)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                return $"An alias may hold only letters, digits, '_' and '-'; '{Printable(c)}' is not allowed.";
        }
        return null;
    }

    /// <summary><c>latest</c> and <c>v&lt;digits&gt;</c> always mean the newest and the numbered version.</summary>
    public static bool IsReservedAlias(string alias) =>
        alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || VersionAlias().IsMatch(alias);

    public static int? ReservedAliasVersion(string alias)
    {
        var match = VersionAlias().Match(alias);
        return match.Success && int.TryParse(match.Groups[1].ValueSpan, out var version) ? version : null;
    }

    public static string NormalizeAlias(string alias) => alias.ToLowerInvariant();

    public static IEnumerable<(string Field, string Error)> CheckTags(IReadOnlyDictionary<string, string>? tags, string field)
    {
        if (tags is null) yield break;
        foreach (var (key, value) in tags)
        {
            if (string.IsNullOrWhiteSpace(key))
                yield return (field, "A tag key may not be empty.");
            else if (key.Length > MaxTagKeyLength)
                yield return (field, $"Tag key '{Shorten(key)}' is longer than {MaxTagKeyLength} characters.");
            else if (key.Any(char.IsControl))
                yield return (field, $"Tag key '{Shorten(key)}' contains a control character.");
            if (value is null)
                yield return (field, $"Tag '{Shorten(key)}' has no value; use an empty string.");
            else if (value.Length > MaxTagValueLength)
                yield return (field, $"The value of tag '{Shorten(key)}' is longer than {MaxTagValueLength} characters.");
        }
    }

    public static IEnumerable<(string Field, string Error)> CheckTagKeys(IReadOnlyList<string>? keys, string field)
    {
        if (keys is null) yield break;
        foreach (var key in keys)
        {
            if (string.IsNullOrWhiteSpace(key)) yield return (field, "A tag key may not be empty.");
            else if (key.Length > MaxTagKeyLength) yield return (field, $"Tag key '{Shorten(key)}' is longer than {MaxTagKeyLength} characters.");
        }
    }

    /// <summary>A tag may not be set and removed by one edit: which would win is a guess.</summary>
    public static IEnumerable<(string Field, string Error)> CheckTagOverlap(IReadOnlyDictionary<string, string>? set,
        IReadOnlyList<string>? remove)
    {
        foreach (var key in (remove ?? []).Where(k => set?.ContainsKey(k) == true).Distinct())
            yield return ("removeTags", $"Tag '{Shorten(key)}' is both set and removed.");
    }

    public static string? CheckText(string? text, int maxLength, string what) =>
        text is not null && text.Length > maxLength ? $"{what} has at most {maxLength} characters." : null;

    // Scripts such as Devanagari write vowels as combining marks; a name needs them after its first letter.
    private static bool IsCombiningMark(char c) =>
        char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    private static string Printable(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"\\u{(int)c:x4}" : c.ToString();

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex(@"^v([0-9]+)\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VersionAlias();
}
