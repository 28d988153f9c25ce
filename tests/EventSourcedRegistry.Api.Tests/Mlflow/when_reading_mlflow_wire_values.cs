using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Mlflow;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>The pure parts of the MLflow door, and the replay test's own comparison (which must not pass falsely). No host.</summary>
public sealed class when_reading_mlflow_wire_values
{
    [Theory]
    [InlineData("Bearer esr_abc_secret", "esr_abc_secret")]
    [InlineData("bearer  esr_abc_secret ", "esr_abc_secret")]
    [InlineData("Basic cGlwZWxpbmU6ZXNyX2FiY19zZWNyZXQ=", "esr_abc_secret")] // pipeline:esr_abc_secret
    [InlineData("Basic OmVzcl9hYmNfc2VjcmV0", "esr_abc_secret")] // :esr_abc_secret (the user name is ignored)
    [InlineData("Basic cGlwZWxpbmU6", null)] // pipeline: (no password)
    [InlineData("Basic bm8tY29sb24=", null)] // no-colon
    [InlineData("Basic %%%", null)]
    [InlineData("Basic //79", null)] // bytes that are not UTF-8
    [InlineData("Bearer ", null)]
    [InlineData("Digest abc", null)]
    public void a_key_is_read_from_bearer_or_the_basic_password(string authorization, string? key) =>
        Assert.Equal(key, MlflowCredentials.PresentedKey(authorization));

    [Theory]
    [InlineData("s3://bucket/churn/1/model")]
    [InlineData("runs:/r1/model")]
    [InlineData("mlflow-artifacts:/0/abc/artifacts/model")]
    [InlineData("https://host/models/churn/1?sig=..x")]
    [InlineData("gs://bucket/a..b/model")]
    public void an_absolute_source_is_taken_as_given(string source) => Assert.Null(ModelVersionsEndpoints.SourceProblem(source));

    [Theory]
    [InlineData("/data/models/churn")]
    [InlineData("relative/path")]
    [InlineData("file:///etc/passwd")]
    [InlineData("s3://bucket/a/../../etc/model")]
    [InlineData("s3://bucket/a/%2e%2E/etc")]
    [InlineData("s3://bucket/./model")]
    public void a_local_or_relative_source_is_refused(string source) => Assert.NotNull(ModelVersionsEndpoints.SourceProblem(source));

    [Theory]
    [InlineData("INVALID_PARAMETER_VALUE", 400)]
    [InlineData("RESOURCE_ALREADY_EXISTS", 400)]
    [InlineData("RESOURCE_DOES_NOT_EXIST", 404)]
    [InlineData("UNAUTHENTICATED", 401)]
    [InlineData("PERMISSION_DENIED", 403)]
    [InlineData("RESOURCE_CONFLICT", 409)]
    [InlineData("REQUEST_LIMIT_EXCEEDED", 429)]
    [InlineData("NOT_IMPLEMENTED", 501)]
    [InlineData("TEMPORARILY_UNAVAILABLE", 503)]
    [InlineData("INTERNAL_ERROR", 500)]
    [InlineData("SOMETHING_ELSE", 500)]
    public void each_error_code_has_mlflows_status(string code, int status) => Assert.Equal(status, MlflowErrors.StatusOf(code));

    [Theory]
    [InlineData(400, 400)]
    [InlineData(404, 404)]
    [InlineData(406, 400)]
    [InlineData(408, 400)]
    [InlineData(412, 409)]
    [InlineData(413, 400)]
    [InlineData(429, 429)]
    [InlineData(451, 400)]
    [InlineData(500, 500)]
    [InlineData(502, 500)]
    public void a_refusal_keeps_a_client_errors_status_class_in_mlflows_words(int refused, int answered) =>
        Assert.Equal(answered, MlflowErrors.StatusOf(MlflowErrors.CodeOf(refused)));

    private static JsonObject Recorded(int status, string? json) =>
        new() { ["status"] = status, ["json"] = json is null ? null : JsonNode.Parse(json) };

    [Fact]
    public void the_replay_comparison_accepts_only_what_the_rules_allow()
    {
        var recorded = Recorded(200, """{"m": {"name": "churn", "creation_timestamp": "<timestamp-ms>", "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}}""");

        Assert.Null(when_replaying_mlflow_transcripts.Compare(recorded, 200, "application/json",
            """{"m": {"name": "churn", "creation_timestamp": 1733400000000, "tags": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]}}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(recorded, 200, "application/json",
            """{"m": {"name": "churn", "creation_timestamp": "1733400000000", "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(recorded, 200, "application/json",
            """{"m": {"name": "churn", "creation_timestamp": 1, "tags": [{"key": "a", "value": "1"}]}}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(recorded, 200, "application/json",
            """{"m": {"name": "Churn", "creation_timestamp": 1, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(recorded, 200, "application/json",
            """{"m": {"name": "churn", "creation_timestamp": 1, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}], "extra": ""}}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(recorded, 200, "application/json", """{"m": {"name": "churn"}}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(recorded, 201, "application/json",
            """{"m": {"name": "churn", "creation_timestamp": 1, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}}"""));

        var error = Recorded(400, """{"error_code": "INVALID_PARAMETER_VALUE", "message": "theirs"}""");
        Assert.Null(when_replaying_mlflow_transcripts.Compare(error, 400, "application/json", """{"error_code": "INVALID_PARAMETER_VALUE", "message": "ours"}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(error, 400, "application/json", """{"error_code": "BAD_REQUEST", "message": "theirs"}"""));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(error, 400, "application/problem+json", """{"title": "x"}"""));

        var page = Recorded(404, null);
        Assert.Null(when_replaying_mlflow_transcripts.Compare(page, 404, "text/html", "<!doctype html>"));
        Assert.NotNull(when_replaying_mlflow_transcripts.Compare(page, 404, "application/json", """{"error_code": "ENDPOINT_NOT_FOUND"}"""));
    }
}
