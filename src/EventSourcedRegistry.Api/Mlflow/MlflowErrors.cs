using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>MLflow's error codes and the HTTP status its server answers each with (protocol README, errors.jsonl).</summary>
public static class MlflowErrors
{
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";
    public const string ResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS";
    public const string ResourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST";
    public const string BadRequest = "BAD_REQUEST";
    public const string Unauthenticated = "UNAUTHENTICATED";
    public const string PermissionDenied = "PERMISSION_DENIED";
    public const string ResourceConflict = "RESOURCE_CONFLICT";
    public const string RequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED";
    public const string NotImplemented = "NOT_IMPLEMENTED";
    public const string TemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE";
    public const string InternalError = "INTERNAL_ERROR";

    public static int StatusOf(string code) => code switch
    {
        InvalidParameterValue or ResourceAlreadyExists or BadRequest => 400,
        ResourceDoesNotExist or "NOT_FOUND" or "ENDPOINT_NOT_FOUND" => 404,
        Unauthenticated or "CUSTOMER_UNAUTHORIZED" => 401,
        PermissionDenied => 403,
        "ALREADY_EXISTS" or ResourceConflict or "ABORTED" => 409,
        RequestLimitExceeded or "RESOURCE_EXHAUSTED" => 429,
        "CANCELLED" => 499,
        NotImplemented => 501,
        TemporarilyUnavailable => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    };

    /// <summary>
    /// The code for a status the registry's own doors answer (authentication, the input door, rate limits, faults):
    /// the client acts on the code, so each status gets the code MLflow answers it with.
    /// </summary>
    public static string CodeOf(int status) => status switch
    {
        400 or 413 => InvalidParameterValue,
        401 => Unauthenticated,
        403 => PermissionDenied,
        404 => ResourceDoesNotExist,
        409 or 412 => ResourceConflict,
        415 => BadRequest,
        422 => InvalidParameterValue,
        429 => RequestLimitExceeded,
        501 => NotImplemented,
        503 => TemporarilyUnavailable,
        // Any other refusal of the request (e.g. 408 when a body arrives too slowly) stays a client error: the fault
        // code would turn it into a 500.
        >= 400 and < 500 => BadRequest,
        _ => InternalError,
    };

    public static IResult Error(string code, string message) =>
        Results.Json(new MlflowError(code, message), MlflowJson.Options, statusCode: StatusOf(code));

    /// <summary>A refusal of the registry's rules in MLflow's words: its status picks the code, its detail is the message.</summary>
    public static IResult From(ModelCommands.Refusal refusal) => Error(CodeOf(refusal.Status), refusal.Detail);

    public static IResult ModelNotFound(string name) => Error(ResourceDoesNotExist, $"Registered Model with name={name} not found");

    public static IResult VersionNotFound(string name, string version) =>
        Error(ResourceDoesNotExist, $"Model Version (name={name}, version={version}) not found");

    public static IResult Missing(string field) =>
        Error(InvalidParameterValue, $"Missing value for required parameter '{field}'. See the API docs for more information about request parameters.");
}

public sealed record MlflowError(string ErrorCode, string Message);

/// <summary>MLflow's JSON: snake_case names; unset members are left out.</summary>
public static class MlflowJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static IResult Ok(object body) => Results.Json(body, Options);

    /// <summary>MLflow's answer to a command that returns nothing.</summary>
    public static IResult Empty() => Results.Json(new { }, Options);
}
