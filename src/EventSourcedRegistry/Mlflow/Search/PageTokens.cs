using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EventSourcedRegistry.Mlflow.Search;

/// <summary>
/// MLflow's <c>page_token</c>/<c>next_page_token</c>, opaque to the client. Ours holds the position after a page's
/// last row (its sort values: keyset paging, see <see cref="SearchSql.After"/>) and a fingerprint of the search it
/// belongs to (entity, filter, order), so a token sent with another filter or order is refused rather than read as a
/// position in a different list. A checksum makes a changed or made-up token a clean refusal. It is not a secret: a
/// forged token can only name a position in a search its sender may run anyway, and every value it carries reaches
/// SQL as a parameter.
/// <para>Format: base64url(JSON <c>{"q": fingerprint, "after": [values]}</c>) "." base64url(first 12 bytes of SHA-256
/// over a domain label and the JSON).</para>
/// </summary>
public static class PageTokens
{
    /// <summary>Ours are a few hundred characters at most (a 128-character name and three numbers).</summary>
    public const int MaxLength = 2048;

    private const string Label = "esr.mlflow.page-token.v1\n";

    /// <param name="scope">What else the token is bound to: the MLflow routes pass the workspace's tenant id, so a token from
    /// one workspace is refused in another.</param>
    public static string Fingerprint(SearchFilter filter, IReadOnlyList<SortKey> keys, string scope = "")
    {
        var text = $"{filter.Entity}\n{filter}\n{string.Join(", ", keys)}" + (scope.Length > 0 ? $"\n{scope}" : "");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    /// <summary>The token of the page that follows the row with sort values <paramref name="after"/> (see <see cref="SearchEvaluator.SortValues"/>).</summary>
    public static string Encode(SearchFilter filter, IReadOnlyList<SortKey> keys, IReadOnlyList<object> after, string scope = "")
    {
        if (after.Count != keys.Count) throw new ArgumentException("A position has one value per sort key.", nameof(after));
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["q"] = Fingerprint(filter, keys, scope),
            ["after"] = after,
        });
        return Base64Url(json) + "." + Base64Url(Checksum(json));
    }

    /// <summary>
    /// Reads a token for this search: true with its position (null when there is no token: the first page), false
    /// with a problem for anything else; never throws on input.
    /// </summary>
    public static bool TryDecode(string? token, SearchFilter filter, IReadOnlyList<SortKey> keys,
        out IReadOnlyList<object>? after, out SearchProblem? problem) => TryDecode(token, filter, keys, "", out after, out problem);

    /// <summary><see cref="TryDecode(string?, SearchFilter, IReadOnlyList{SortKey}, out IReadOnlyList{object}?, out SearchProblem?)"/> for a token made with <paramref name="scope"/>.</summary>
    public static bool TryDecode(string? token, SearchFilter filter, IReadOnlyList<SortKey> keys, string scope,
        out IReadOnlyList<object>? after, out SearchProblem? problem)
    {
        after = null;
        problem = null;
        if (string.IsNullOrEmpty(token)) return true;
        var dot = token.IndexOf('.');
        if (token.Length > MaxLength || dot < 0
            || !TryBase64Url(token[..dot], out var json) || !TryBase64Url(token[(dot + 1)..], out var checksum))
        {
            problem = new SearchProblem("Invalid page token, could not base64-decode");
            return false;
        }
        if (!CryptographicOperations.FixedTimeEquals(checksum, Checksum(json)))
        {
            problem = new SearchProblem("Invalid page token: it was changed or not made by this server. Send the next_page_token of the previous page as it came.");
            return false;
        }
        if (!TryRead(json, keys, out var fingerprint, out var values))
        {
            problem = new SearchProblem("Invalid page token: it does not fit this search's order_by.");
            return false;
        }
        if (fingerprint != Fingerprint(filter, keys, scope))
        {
            problem = new SearchProblem("Invalid page token: it belongs to another search (another filter, order_by or workspace). Start again without page_token.");
            return false;
        }
        after = values;
        return true;
    }

    private static bool TryRead(byte[] json, IReadOnlyList<SortKey> keys, out string? fingerprint, out IReadOnlyList<object>? values)
    {
        fingerprint = null;
        values = null;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("q", out var q) || q.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("after", out var array) || array.ValueKind != JsonValueKind.Array
                || array.GetArrayLength() != keys.Count)
                return false;
            var read = new List<object>(keys.Count);
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (keys[i++].Field == SortField.Name)
                {
                    if (item.ValueKind != JsonValueKind.String) return false;
                    read.Add(item.GetString()!);
                }
                else
                {
                    if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number)) return false;
                    read.Add(number);
                }
            }
            fingerprint = q.GetString();
            values = read;
            return true;
        }
        catch (JsonException)
        {
            // Only a token whose checksum holds gets here: one made with the checksum's known label.
            return false;
        }
    }

    private static byte[] Checksum(byte[] json)
    {
        var labelled = new byte[Label.Length + json.Length];
        Encoding.ASCII.GetBytes(Label, labelled);
        json.CopyTo(labelled, Label.Length);
        return SHA256.HashData(labelled)[..12];
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0) return false;
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        var buffer = new byte[padded.Length * 3 / 4];
        if (!Convert.TryFromBase64String(padded, buffer, out var written)) return false;
        bytes = buffer[..written];
        return true;
    }
}
