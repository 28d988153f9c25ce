using Microsoft.AspNetCore.Mvc;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>Every refusal leaves as an RFC 9457 ProblemDetails with a clear detail.</summary>
public static class Problems
{
    public static IResult From(Rejection rejection) => Problem(StatusOf(rejection.Kind), rejection.Title, rejection.Detail);

    public static int StatusOf(RejectionKind kind) => kind switch
    {
        RejectionKind.Invalid => StatusCodes.Status400BadRequest,
        RejectionKind.NotFound => StatusCodes.Status404NotFound,
        RejectionKind.Conflict => StatusCodes.Status409Conflict,
        RejectionKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static IResult Problem(int status, string title, string detail) =>
        Results.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypeOf(status) });

    public static IResult Validation(IEnumerable<(string Field, string Error)> errors)
    {
        var grouped = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Error).Distinct().ToArray());
        var detail = string.Join(" ", grouped.SelectMany(g => g.Value).Take(5));
        return Results.Problem(new HttpValidationProblemDetails(grouped)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid",
            Detail = detail,
            Type = TypeOf(StatusCodes.Status400BadRequest),
        });
    }

    /// <summary>A body of JSON <c>null</c> reads as no request at all: the client's 400, not a fault.</summary>
    public static IResult BodyRequired(string shape) =>
        Validation([("body", $"A JSON object is required as the request body: {shape}.")]);

    public static IResult ModelNotFound(string name) =>
        Problem(StatusCodes.Status404NotFound, "Model not found", $"No model is registered under the name '{name}'.");

    public static IResult StaleRevision(long expected, long? actual) =>
        Problem(StatusCodes.Status412PreconditionFailed, "Stale revision",
            actual is null
                ? $"If-Match names revision {expected}, but the model has changed since; read it again and retry."
                : $"If-Match names revision {expected}, but the model is at revision {actual}; read it again and retry.");

    private static string TypeOf(int status) => $"https://httpstatuses.io/{status}";
}
