using Microsoft.Net.Http.Headers;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>A model's revision (its stream version) travels as a strong ETag: <c>"7"</c>.</summary>
public static class Revisions
{
    public static string ETagOf(long revision) => $"\"{revision}\"";

    public static void Write(HttpResponse response, long revision) => response.Headers.ETag = ETagOf(revision);

    /// <summary>
    /// Reads If-Match. Absent or <c>*</c> → no expectation. Anything that is not one revision in quotes is
    /// a malformed precondition and answered 400 by the caller.
    /// </summary>
    public static bool TryReadIfMatch(HttpRequest request, out long? expected)
    {
        expected = null;
        var raw = request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(raw) || raw.Trim() == "*") return true;
        if (!EntityTagHeaderValue.TryParseList([raw], out var tags) || tags.Count != 1) return false;
        var tag = tags[0].Tag.Value?.Trim('"');
        if (tags[0].IsWeak || !long.TryParse(tag, out var revision) || revision < 0) return false;
        expected = revision;
        return true;
    }
}
