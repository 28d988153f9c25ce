using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Mlflow;

/// <summary>
/// One file the MLflow artifact proxy holds: its path (as the client names it under <c>mlflow-artifacts:/</c>) and the
/// SHA-256 of its bytes, which live once in the workspace's content-addressed store. Write-once: a path keeps the bytes
/// it was first given, so a version whose digest covers it stays bound to them. Per workspace (a Marten tenant document).
/// Not an event: an upload changes no registry state; registering a version on the files records their digest.
/// </summary>
public sealed class MlflowArtifactFile
{
    /// <summary>The file's whole path, e.g. <c>churn/1/model/MLmodel</c> (case-sensitive, as MLflow's are).</summary>
    public string Id { get; set; } = "";
    /// <summary>The directory holding it (<c>churn/1/model</c>): what a listing reads.</summary>
    public string Directory { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public long SizeBytes { get; set; }
    /// <summary>An API key's id or a token's actor.</summary>
    public string UploadedBy { get; set; } = "";
    public DateTimeOffset UploadedAt { get; set; }
    /// <summary>
    /// The model the file belongs to, by id: the model its path named when it was uploaded, or, for a file uploaded before
    /// that model existed, the model a version was first registered on it for. Null until then. Reads are authorized against
    /// it, not against whichever model holds the path's name now, so a rename and a new model of the old name never hand the
    /// files to a caller scoped to that new model.
    /// </summary>
    public Guid? ModelId { get; set; }

    public string Name => Id[(Id.LastIndexOf('/') + 1)..];
}

/// <summary>
/// The rules for a path of the MLflow artifact proxy, and the digest over a directory's files. The path's first segment
/// names the registered model the files belong to (<c>churn/1/model/MLmodel</c> is model <c>churn</c>'s): what
/// authorizes reading and writing it.
/// </summary>
public static class MlflowArtifactPaths
{
    public const int MaxPathLength = 1024;
    public const int MaxSegmentLength = 255;

    /// <summary>Null when <paramref name="path"/> is a relative path of plain segments under a valid model name; otherwise why not.</summary>
    public static string? Problem(string path)
    {
        if (path.Length == 0) return "An artifact path names a registered model first (<model name>/...).";
        if (path.Length > MaxPathLength) return $"An artifact path has at most {MaxPathLength} characters.";
        if (path[0] == '/') return "An artifact path is relative (no leading '/').";
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0) return "An artifact path has no empty segments ('//' or a trailing '/').";
            if (segment is "." or "..") return "An artifact path has no '.' or '..' segments.";
            if (segment.Length > MaxSegmentLength) return $"An artifact path's segments have at most {MaxSegmentLength} characters.";
            // '%' (an encoding the router left, or a double one), '\' and ':' (other systems' separators and drives) are
            // refused rather than interpreted: a path means exactly its text.
            foreach (var c in segment)
                if (char.IsControl(c) || char.IsSurrogate(c) || c is '\\' or '%' or ':')
                    return "An artifact path holds no control characters, '\\', '%' or ':'.";
        }
        return InputRules.CheckModelName(ModelOf(path)) is { } bad ? $"An artifact path names a registered model first: {bad}" : null;
    }

    /// <summary>The model a (valid) path belongs to: its first segment.</summary>
    public static string ModelOf(string path) => path.Split('/', 2)[0];

    public static string DirectoryOf(string path) => path.LastIndexOf('/') is var slash and > 0 ? path[..slash] : "";

    /// <summary>
    /// The digest of a directory's files, what a version registered on them is bound to: SHA-256 (lower-case hex) over the
    /// UTF-8 lines <c>&lt;path relative to the directory&gt;\t&lt;sha256&gt;\n</c>, sorted by path in ordinal order.
    /// </summary>
    public static string ManifestDigest(IEnumerable<(string RelativePath, string Sha256)> files)
    {
        var manifest = new StringBuilder();
        foreach (var (path, sha256) in files.OrderBy(f => f.RelativePath, StringComparer.Ordinal))
            manifest.Append(path).Append('\t').Append(sha256).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest.ToString())));
    }

    /// <summary>The path an <c>mlflow-artifacts:</c> source names on this registry's proxy (<c>mlflow-artifacts:/p</c>); null for any other source, one on another host included.</summary>
    public static string? PathOf(string source)
    {
        const string scheme = "mlflow-artifacts:";
        if (!source.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return null;
        var rest = source[scheme.Length..];
        // mlflow-artifacts://host:port/p names another server; mlflow-artifacts:/p (or :p) this one.
        if (rest.StartsWith("//", StringComparison.Ordinal)) return null;
        var path = rest.TrimStart('/').TrimEnd('/');
        return Problem(path) is null ? path : null;
    }
}
