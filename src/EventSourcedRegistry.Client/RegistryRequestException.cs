namespace EventSourcedRegistry.Client;

/// <summary>The registry refused a request: the status and the RFC 9457 ProblemDetails it answered with.</summary>
public sealed class RegistryRequestException : Exception
{
    public RegistryRequestException(int status, string? title, string? detail, string? type,
        IReadOnlyDictionary<string, string[]>? errors, string? correlationId)
        : base(MessageOf(status, title, detail, errors))
    {
        Status = status;
        Title = title;
        Detail = detail;
        Type = type;
        Errors = errors ?? new Dictionary<string, string[]>();
        CorrelationId = correlationId;
    }

    public int Status { get; }
    public string? Title { get; }
    public string? Detail { get; }
    public string? Type { get; }

    /// <summary>Validation errors by field (empty unless the status is 400 with <c>errors</c>).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The request's <c>X-Correlation-Id</c>, to find it in the server's history and logs.</summary>
    public string? CorrelationId { get; }

    private static string MessageOf(int status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors)
    {
        var message = detail ?? title ?? $"The registry answered {status}.";
        if (errors is { Count: > 0 })
            message += " " + string.Join(" ", errors.SelectMany(e => e.Value.Select(v => $"{e.Key}: {v}")));
        return message;
    }
}
