// Everything built on IFERModels also sees the layers and the tensor core.
@_exported import IFERLayers
