using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>Every refusal leaves as an RFC 9457 ProblemDetails with a clear detail.</summary>
public static class Problems
{
    public static IResult From(Rejection rejection) =>
        Problem(StatusOf(rejection.Kind), rejection.Title, rejection.Detail, rejection.Extensions);

    public static int StatusOf(RejectionKind kind) => kind switch
    {
        RejectionKind.Invalid => StatusCodes.Status400BadRequest,
        RejectionKind.NotFound => StatusCodes.Status404NotFound,
        RejectionKind.Conflict => StatusCodes.Status409Conflict,
        RejectionKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static IResult Problem(int status, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypeOf(status) };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>()) problem.Extensions[key] = value;
        return Results.Problem(problem);
    }

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

    public static IResult ModelNotFound(string name) => Problem(StatusCodes.Status404NotFound, "Model not found", NoSuchModel(name));

    public static string NoSuchModel(string name) => $"No model is registered under the name '{name}'.";

    /// <summary>
    /// Problems the framework writes itself (no such route, method not allowed, a body that is not JSON) carry a
    /// title only; give them a detail that says what to do. Problems that have a detail keep it.
    /// </summary>
    public static void Describe(ProblemDetailsContext context) =>
        context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
        {
            StatusCodes.Status404NotFound => "No endpoint answers this path; the API is described at /openapi/v1.json.",
            StatusCodes.Status405MethodNotAllowed => $"{context.HttpContext.Request.Method} is not allowed on this path; the API is described at /openapi/v1.json.",
            StatusCodes.Status406NotAcceptable => "This endpoint answers application/json; send an Accept header that allows it.",
            StatusCodes.Status415UnsupportedMediaType => "Send the request body as JSON, with Content-Type: application/json.",
            { } status => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : null,
            null => null,
        };

    public static string TypeOf(int status) => $"https://httpstatuses.io/{status}";
}
