// See ../README.md: included by ProcessGroupGloo.hpp, which uses nothing from it.
#pragma once
