using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Audit;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

public static class GetAuditPublicKeyEndpoint
{
    public const string KeyIdHeader = "X-Key-Id";

    /// <summary>The public half of the checkpoint signing key, as a PEM SubjectPublicKeyInfo (what <c>openssl dgst -verify</c> takes).</summary>
    [Authorize(Policy = Policies.Audit)]
    [ProducesResponseType(typeof(string), StatusCodes.Status200OK, "application/x-pem-file")]
    [WolverineGet("/api/v1/audit/public-key", OperationId = "GetAuditPublicKey")]
    public static IResult Get(HttpContext http, CheckpointSigner signer)
    {
        http.Response.Headers[KeyIdHeader] = signer.KeyId;
        return Results.Text(signer.PublicKeyPem, "application/x-pem-file");
    }
}
