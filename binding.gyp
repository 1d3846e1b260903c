# Builds the same addon as CMakeLists.txt, with node-gyp. `npm install` uses cmake-js; CI also
# builds through this file (scripts/node-gyp-smoke.sh) so that this path keeps working.
{
  "targets": [
    {
      "target_name": "unet_torch",
      "sources": ["<!@(node scripts/libtorch.js sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/gloo-declarations",
        "<!@(node scripts/libtorch.js includes)"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
                  "<!@(node scripts/libtorch.js defines)"],
      # torch headers need RTTI, exceptions and C++20; node-gyp's defaults turn all three off.
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=gnu++20", "-fexceptions", "-frtti", "-O3", "-Wno-unused-parameter"],
      "libraries": [
        "-L<!(node scripts/libtorch.js lib)",
        "-Wl,--no-as-needed",
        "<!@(node scripts/libtorch.js libraries)",
        "-Wl,--as-needed",
        "-Wl,-rpath,<!(node scripts/libtorch.js lib)"
      ]
    }
  ]
}
