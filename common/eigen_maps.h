// common/eigen_maps.h — Eigen views over the course's plain float buffers.
//
// Every op takes raw pointers (a slice of the model's one big buffer, a
// reference tensor, a host mirror of device memory) and wraps them in Eigen
// maps to do the arithmetic. The maps are row-major, like PyTorch, so
// element (r, c) of an (R, C) tensor sits at p[r * C + c] on both sides.
#pragma once

#include <Eigen/Core>

namespace gpt {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using VectorMap = Eigen::Map<Eigen::RowVectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::RowVectorXf>;

}  // namespace gpt
