using System.Globalization;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// The fields of one MLflow request: the query string of a GET (repeated keys for lists), the JSON body of POST, PATCH
/// and DELETE. Read by hand rather than bound: MLflow's wire allows fields the proto adds later and answers every
/// shape error with its own <c>{"error_code","message"}</c>, never ProblemDetails. The body has passed the registry's
/// JSON door (size, canonical form) before it is read here.
/// </summary>
public sealed class MlflowRequest
{
    private readonly IQueryCollection? _query;
    private readonly JsonElement _body;

    private MlflowRequest(IQueryCollection? query, JsonElement body)
    {
        _query = query;
        _body = body;
    }

    /// <summary>The request's fields, or the error that its body is not a JSON object.</summary>
    /// <summary>
    /// The prologue of every call on one model: the request read, its <c>name</c> required, and the caller's
    /// <paramref name="role"/> on that model checked (<see cref="MlflowAccess.Refusal"/>: a model the caller may not read
    /// answers as one that does not exist). <c>Refusal</c> is the answer when any of them fails.
    /// </summary>
    public static async Task<(MlflowRequest Request, string Name, IResult? Refusal)> ForModelAsync(HttpContext http, ModelCommands commands, string role)
    {
        var (request, bad) = await ReadAsync(http);
        if (bad is not null) return (null!, "", bad);
        var name = request!.String("name");
        if (string.IsNullOrEmpty(name)) return (null!, "", MlflowErrors.Missing("name"));
        return await MlflowAccess.Refusal(http, commands, role, name, () => MlflowErrors.ModelNotFound(name)) is { } refused
            ? (null!, "", refused)
            : (request, name, null);
    }

    public static async Task<(MlflowRequest? Request, IResult? Error)> ReadAsync(HttpContext http)
    {
        if (HttpMethods.IsGet(http.Request.Method)) return (new MlflowRequest(http.Request.Query, default), null);
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, MlflowErrors.Error(MlflowErrors.InvalidParameterValue, "The request body must be a JSON object."));
            return (new MlflowRequest(null, document.RootElement.Clone()), null);
        }
        catch (JsonException)
        {
            return (null, MlflowErrors.Error(MlflowErrors.BadRequest, "The request body is not valid JSON."));
        }
    }

    /// <summary>A string field; numbers and booleans are taken as their text (MLflow's JSON parser does the same).</summary>
    public string? String(string field)
    {
        if (_query is not null) return _query.TryGetValue(field, out var values) && values.Count > 0 ? values[^1] : null;
        if (!_body.TryGetProperty(field, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    /// <summary>True when the field was sent with a value that is not a string, number or boolean (an object, a list).</summary>
    public bool IsMalformed(string field) =>
        _query is null && _body.TryGetProperty(field, out var value) &&
        value.ValueKind is JsonValueKind.Object or JsonValueKind.Array;

    public IReadOnlyList<string> Strings(string field)
    {
        if (_query is not null) return _query.TryGetValue(field, out var values) ? values.Where(v => v is not null).Select(v => v!).ToList() : [];
        if (!_body.TryGetProperty(field, out var list) || list.ValueKind != JsonValueKind.Array) return [];
        return list.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList();
    }

    public bool? Bool(string field) => String(field)?.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

    /// <summary>
    /// <c>tags: [{"key","value"}]</c> as a dictionary (a later duplicate key wins, as MLflow's store keeps the last), or
    /// the error for an entry without a key.
    /// </summary>
    public (Dictionary<string, string>? Tags, IResult? Error) Tags(string field = "tags")
    {
        if (_query is not null || !_body.TryGetProperty(field, out var list) || list.ValueKind == JsonValueKind.Null) return (null, null);
        if (list.ValueKind != JsonValueKind.Array)
            return (null, MlflowErrors.Error(MlflowErrors.InvalidParameterValue, $"Parameter '{field}' must be a list of {{\"key\", \"value\"}}."));
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in list.EnumerateArray())
        {
            if (tag.ValueKind != JsonValueKind.Object || !tag.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.String
                || key.GetString() is not { Length: > 0 } name)
                return (null, MlflowErrors.Missing("key"));
            tags[name] = tag.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
        }
        return (tags, null);
    }

    /// <summary>A version number as MLflow parses it: a whole number, or the 400 it answers for anything else.</summary>
    public static (int Version, IResult? Error) Version(string? raw, string field = "version")
    {
        if (string.IsNullOrEmpty(raw)) return (0, MlflowErrors.Missing(field));
        if (int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var version)) return (version, null);
        var shown = raw.Length > 40 ? raw[..40] + "…" : raw;
        return (0, MlflowErrors.Error(MlflowErrors.InvalidParameterValue, $"Parameter '{field}' must be an integer, got '{shown}'."));
    }
}
