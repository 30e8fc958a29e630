using Dtr.Errors;

namespace Dtr.Abstractions.Tests.Errors;

public class OciErrorCodeTests
{
    public static TheoryData<OciErrorCode, string, int> Codes => new()
    {
        { OciErrorCode.BlobUnknown, "BLOB_UNKNOWN", 404 },
        { OciErrorCode.BlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400 },
        { OciErrorCode.BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404 },
        { OciErrorCode.DigestInvalid, "DIGEST_INVALID", 400 },
        { OciErrorCode.ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 404 },
        { OciErrorCode.ManifestInvalid, "MANIFEST_INVALID", 400 },
        { OciErrorCode.ManifestUnknown, "MANIFEST_UNKNOWN", 404 },
        { OciErrorCode.NameInvalid, "NAME_INVALID", 400 },
        { OciErrorCode.NameUnknown, "NAME_UNKNOWN", 404 },
        { OciErrorCode.SizeInvalid, "SIZE_INVALID", 400 },
        { OciErrorCode.Unauthorized, "UNAUTHORIZED", 401 },
        { OciErrorCode.Denied, "DENIED", 403 },
        { OciErrorCode.Unsupported, "UNSUPPORTED", 405 },
        { OciErrorCode.TooManyRequests, "TOOMANYREQUESTS", 429 },
        { OciErrorCode.PaginationNumberInvalid, "PAGINATION_NUMBER_INVALID", 400 },
        { OciErrorCode.RangeInvalid, "BLOB_UPLOAD_INVALID", 416 },
        { OciErrorCode.ContentTooLarge, "SIZE_INVALID", 413 },
        { OciErrorCode.EndpointNotFound, "NOT_FOUND", 404 },
    };

    [Theory]
    [MemberData(nameof(Codes))]
    public void Code_HasSpecCodeAndStatus(OciErrorCode error, string code, int status)
    {
        Assert.Equal(code, error.Code);
        Assert.Equal(status, error.Status);
        Assert.False(string.IsNullOrWhiteSpace(error.Description));
    }

    [Fact]
    public void RegistryException_UsesDescriptionByDefault()
    {
        var ex = new RegistryException(OciErrorCode.NameUnknown);

        Assert.Same(OciErrorCode.NameUnknown, ex.Error);
        Assert.Equal("repository name not known to registry", ex.Message);
        Assert.Null(ex.Detail);
    }

    [Fact]
    public void RegistryException_KeepsMessageAndDetail()
    {
        var detail = new { Name = "x" };
        var ex = new RegistryException(OciErrorCode.ManifestInvalid, "bad layers", detail);

        Assert.Equal("bad layers", ex.Message);
        Assert.Same(detail, ex.Detail);
    }

    [Fact]
    public void RegistryException_RejectsNullCode()
    {
        Assert.Throws<ArgumentNullException>(() => new RegistryException(null!));
        Assert.Throws<ArgumentNullException>(() => new RegistryException(null!, "message"));
    }
}
