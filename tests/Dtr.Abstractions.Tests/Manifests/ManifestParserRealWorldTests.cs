using Dtr.Manifests;
using static Dtr.Abstractions.Tests.Manifests.ManifestSamples;

namespace Dtr.Abstractions.Tests.Manifests;

/// <summary>
/// Manifests shaped like those that Docker, BuildKit and artifact tools push, formatted as they send them.
/// </summary>
public class ManifestParserRealWorldTests
{
    [Fact]
    public void DockerSchema2Manifest()
    {
        const string json = """
            {
               "schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
               "config": {
                  "mediaType": "application/vnd.docker.container.image.v1+json",
                  "size": 1472,
                  "digest": "sha256:2fd1e0eddf9259aa22628e870e6da245b2e8195f798e1395b294c568be58ce97"
               },
               "layers": [
                  {
                     "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                     "size": 2811969,
                     "digest": "sha256:9392672f0edd120ca1ab3fdb04f38007f6f3e9582db45b56c5f94504590b8e99"
                  },
                  {
                     "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                     "size": 146,
                     "digest": "sha256:b40c0475ba1d44233ebfadf514847d0a961d27d516b84635e976afa6dc1e41c1"
                  }
               ]
            }
            """;

        var manifest = Parse(json, MediaTypes.DockerManifest);

        Assert.Equal(MediaTypes.DockerManifest, manifest.MediaType);
        Assert.NotNull(manifest.Config);
        Assert.Equal(MediaTypes.DockerConfig, manifest.Config.MediaType);
        Assert.Equal(1472, manifest.Config.Size);
        Assert.Equal("sha256:2fd1e0eddf9259aa22628e870e6da245b2e8195f798e1395b294c568be58ce97", manifest.Config.Digest.Value);
        Assert.Equal(2, manifest.Layers.Count);
        Assert.Equal(2811969, manifest.Layers[0].Size);
        Assert.Equal("sha256:b40c0475ba1d44233ebfadf514847d0a961d27d516b84635e976afa6dc1e41c1", manifest.Layers[1].Digest.Value);
        Assert.All(manifest.Layers, layer => Assert.Equal(MediaTypes.DockerLayerGzip, layer.MediaType));
        Assert.Empty(manifest.Manifests);
        Assert.Null(manifest.Subject);
        Assert.Equal(MediaTypes.DockerConfig, manifest.ArtifactType);
        Assert.Equal(3, manifest.Blobs.Count());
    }

    [Fact]
    public void OciImageManifest()
    {
        const string json = """
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:892527c266f4ea802ebeae9f8536a63b405e7907166b0c4f8da10aa67303af42",
                "size": 7023
              },
              "layers": [
                {
                  "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                  "digest": "sha256:2d53731fa329dc8cd10ec6449659c1ea584e86bced0e1e6f5f493a34fc1297b0",
                  "size": 32654
                }
              ],
              "annotations": {
                "org.opencontainers.image.created": "2024-05-01T10:00:00Z",
                "org.opencontainers.image.source": "https://example.com/app.git"
              }
            }
            """;

        var manifest = Parse(json, MediaTypes.OciManifest);

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        Assert.Equal(MediaTypes.OciConfig, manifest.Config?.MediaType);
        Assert.Equal(MediaTypes.OciLayerZstd, Assert.Single(manifest.Layers).MediaType);
        Assert.Equal(MediaTypes.OciConfig, manifest.ArtifactType);
        Assert.NotNull(manifest.Annotations);
        Assert.Equal("https://example.com/app.git", manifest.Annotations["org.opencontainers.image.source"]);
    }

    [Fact]
    public void OciIndexWithTwoPlatforms()
    {
        const string json = """
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.index.v1+json",
              "manifests": [
                {
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
                  "size": 1035,
                  "platform": { "architecture": "amd64", "os": "linux" }
                },
                {
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "digest": "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265",
                  "size": 1035,
                  "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
                },
                {
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "digest": "sha256:bcc7930764b9b7a8b9bbd0161b568e869466d0c4efaee8006a56f3e8e6d82b69",
                  "size": 840,
                  "annotations": {
                    "vnd.docker.reference.digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
                    "vnd.docker.reference.type": "attestation-manifest"
                  },
                  "platform": { "architecture": "unknown", "os": "unknown" }
                }
              ]
            }
            """;

        var manifest = Parse(json, MediaTypes.OciIndex);

        Assert.Equal(MediaTypes.OciIndex, manifest.MediaType);
        Assert.Null(manifest.Config);
        Assert.Empty(manifest.Layers);
        Assert.Empty(manifest.Blobs);
        Assert.Null(manifest.ArtifactType);
        Assert.Equal(3, manifest.Manifests.Count);

        var amd64 = manifest.Manifests[0];
        Assert.Equal("amd64", amd64.Platform?.Architecture);
        Assert.Equal("linux", amd64.Platform?.Os);
        Assert.Null(amd64.Platform?.Variant);

        var arm64 = manifest.Manifests[1];
        Assert.Equal("arm64", arm64.Platform?.Architecture);
        Assert.Equal("v8", arm64.Platform?.Variant);
        Assert.Equal("sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265", arm64.Digest.Value);

        var attestation = manifest.Manifests[2];
        Assert.Equal("attestation-manifest", attestation.Annotations?["vnd.docker.reference.type"]);
    }

    [Fact]
    public void DockerManifestList()
    {
        const string json = """
            {
               "schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
               "manifests": [
                  {
                     "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                     "size": 528,
                     "digest": "sha256:91a15eb56f494814ca5a8b9abd60dbad4bb59ee6613c2dc14cdcdcbdd005b68f",
                     "platform": {
                        "architecture": "amd64",
                        "os": "linux"
                     }
                  },
                  {
                     "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                     "size": 528,
                     "digest": "sha256:4080065e7ffbc773e1b67e404f89d091f0e170adacec8e33b6d5e251e62dd81f",
                     "platform": {
                        "architecture": "arm",
                        "os": "linux",
                        "variant": "v7"
                     }
                  }
               ]
            }
            """;

        var manifest = Parse(json, MediaTypes.DockerManifestList);

        Assert.Equal(MediaTypes.DockerManifestList, manifest.MediaType);
        Assert.Equal(2, manifest.Manifests.Count);
        Assert.All(manifest.Manifests, entry => Assert.Equal(MediaTypes.DockerManifest, entry.MediaType));
        Assert.Equal("arm", manifest.Manifests[1].Platform?.Architecture);
        Assert.Equal("v7", manifest.Manifests[1].Platform?.Variant);
        Assert.Null(manifest.Config);
    }

    [Fact]
    public void ArtifactWithEmptyConfig()
    {
        const string json = """
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "artifactType": "application/spdx+json",
              "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2,
                "data": "e30="
              },
              "layers": [
                {
                  "mediaType": "application/spdx+json",
                  "digest": "sha256:98f3ae1ef67113d8140d4f6cb8d2830070e21ea48f091be519659846c771a374",
                  "size": 18214,
                  "annotations": { "org.opencontainers.image.title": "sbom.spdx.json" }
                }
              ]
            }
            """;

        var manifest = Parse(json, MediaTypes.OciManifest);

        Assert.Equal("application/spdx+json", manifest.ArtifactType);
        Assert.Equal(MediaTypes.OciEmpty, manifest.Config?.MediaType);
        Assert.Equal(EmptyJsonDigest, manifest.Config?.Digest.Value);
        Assert.Equal(2, manifest.Config?.Size);
        Assert.Equal("sbom.spdx.json", Assert.Single(manifest.Layers).Annotations?["org.opencontainers.image.title"]);
    }

    [Fact]
    public void SignatureWithSubject()
    {
        const string json = """
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "artifactType": "application/vnd.example.signature.v1+json",
              "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2
              },
              "layers": [
                {
                  "mediaType": "application/vnd.example.signature.v1+json",
                  "digest": "sha256:a543997d84f12798350c09bdef2cdb171bf41ed3e4a5f808af2feb0c56263009",
                  "size": 2154
                }
              ],
              "subject": {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": "sha256:a9491f4c1bf7b0cffbadcba2db8f028e4b3f2867cb59e1f3a0bc1968f3c51242",
                "size": 1623
              },
              "annotations": { "org.opencontainers.image.created": "2024-05-01T10:00:00Z" }
            }
            """;

        var manifest = Parse(json, MediaTypes.OciManifest);

        Assert.NotNull(manifest.Subject);
        Assert.Equal(MediaTypes.OciIndex, manifest.Subject.MediaType);
        Assert.Equal("sha256:a9491f4c1bf7b0cffbadcba2db8f028e4b3f2867cb59e1f3a0bc1968f3c51242", manifest.Subject.Digest.Value);
        Assert.Equal(1623, manifest.Subject.Size);
        Assert.Equal("application/vnd.example.signature.v1+json", manifest.ArtifactType);
        Assert.Equal("2024-05-01T10:00:00Z", manifest.Annotations?["org.opencontainers.image.created"]);
    }

    [Fact]
    public void EmptyJsonDigest_MatchesComputedDigest()
    {
        Assert.Equal(EmptyJsonDigest, Dtr.Digests.Digest.Compute("{}"u8).Value);
    }
}
